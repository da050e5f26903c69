package destinationrule

import (
	"fmt"
	"strings"

	"github.com/meshguard/meshguard/pkg/paths"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// istioMutualWithoutSidecar (MG201) explains paths broken because the client
// sends Istio mTLS (tls mode ISTIO_MUTUAL) to servers with no proxy to
// terminate it: pods without a sidecar or ambient enrolment, and Services
// without a selector, whose endpoints (the API server behind
// kubernetes.default, hand-managed addresses) live outside the mesh.
// Wildcard hosts reach every Service they govern: `*.local` with ISTIO_MUTUAL
// over sidecar-less servers is the classic mesh-wide outage. The paths model
// says which clients' lookup picks the rule; a DestinationRule that sets it,
// or a VirtualService that sends traffic under it, is judged alike.
type istioMutualWithoutSidecar struct{ drRule }

func (istioMutualWithoutSidecar) ID() string { return "MG201" }

func (istioMutualWithoutSidecar) Reads() []state.Kind { return nil }

// A PeerAuthentication that sets DISABLE on a port leaves its proxies no
// mTLS filter chain there, so clients whose rule says ISTIO_MUTUAL fail the
// same way: the policy write is judged too.
func (istioMutualWithoutSidecar) WriteKinds() []string {
	return []string{rules.KindDestinationRule, rules.KindVirtualService, rules.KindPeerAuthentication, rules.KindService,
		rules.KindHTTPRoute, rules.KindGRPCRoute}
}

func (r istioMutualWithoutSidecar) Check(in *rules.Input) []rules.Finding {
	if in.Change.Ref.Kind == rules.KindService { // a selector onto pods that refuse what clients send
		return in.ServiceWrite(r.ID(), paths.MTLSToPlain, func(*state.VirtualService) bool { return true })
	}
	var out []rules.Finding
	key := func(f rules.PathFailure) string {
		if in.Change.Ref.Kind != rules.KindPeerAuthentication {
			return tlsField(in, f)
		}
		if pa := in.PA; pa != nil && pa.Mode != "DISABLE" && len(pa.PortModes) > 0 {
			return "spec.portLevelMtls"
		}
		return "spec.mtls.mode"
	}
	for _, g := range rules.GroupFailures(in.Failures(paths.MTLSToPlain), key) {
		action, held := g.Verdict()
		var services, detail []string
		for _, pf := range g.Failures {
			f := pf.Failure
			ref := f.BackendRef()
			if containsPrefix(services, ref) {
				continue
			}
			if f.Policy != nil && f.PolicyBad < f.Bad {
				// Some pods have no proxy there, a policy turns mTLS off for the others.
				why := fmt.Sprintf("%d of its %d Ready pods cannot terminate it on that port (%s): %d without a sidecar there (or with one that does not intercept it) and %d where PeerAuthentication %s/%s sets DISABLE",
					f.Bad, f.Ready, strings.Join(f.Pods, ", "), f.Bad-f.PolicyBad, f.PolicyBad, f.Policy.Namespace, f.Policy.Name)
				services = append(services, ref+" ("+why+")")
				detail = append(detail, why)
				continue
			}
			if f.Policy != nil {
				why := fmt.Sprintf("PeerAuthentication %s/%s sets DISABLE on that port of %d of its %d Ready pods (%s), whose proxies then accept only plaintext there",
					f.Policy.Namespace, f.Policy.Name, f.Bad, f.Ready, strings.Join(f.Pods, ", "))
				services = append(services, ref+" ("+why+")")
				detail = append(detail, why)
				continue
			}
			if f.Service != nil && len(f.Service.Selector) == 0 && f.Ready == 0 {
				services = append(services, ref+" (no selector: its endpoints are outside the mesh)")
				detail = append(detail, "it has no selector, so its endpoints are outside the mesh")
				continue
			}
			if f.Service != nil && len(f.Service.Selector) == 0 {
				// Endpoints from the Service's own EndpointSlices.
				services = append(services, fmt.Sprintf("%s (%d of %d Ready endpoints of its EndpointSlices outside the mesh: %s)", ref, f.Bad, f.Ready, strings.Join(f.Pods, ", ")))
				detail = append(detail, fmt.Sprintf("%d of the %d Ready endpoints its EndpointSlices list have no proxy to terminate it (%s)", f.Bad, f.Ready, strings.Join(f.Pods, ", ")))
				continue
			}
			if what := f.Endpoints(); what != "pods" {
				// VMs (WorkloadEntries) or a ServiceEntry's endpoints: istiod says no proxy runs there.
				services = append(services, fmt.Sprintf("%s (%d of %d Ready %s without a proxy: %s)", ref, f.Bad, f.Ready, what, strings.Join(f.Pods, ", ")))
				detail = append(detail, fmt.Sprintf("%d of its %d Ready %s run no proxy to terminate it (%s)", f.Bad, f.Ready, what, strings.Join(f.Pods, ", ")))
				continue
			}
			services = append(services, fmt.Sprintf("%s (%d of %d Ready pods without a sidecar on that port: %s)", ref, f.Bad, f.Ready, strings.Join(f.Pods, ", ")))
			detail = append(detail, fmt.Sprintf("%d of its %d Ready pods have no sidecar on that port, or one that does not intercept it (%s)", f.Bad, f.Ready, strings.Join(f.Pods, ", ")))
		}
		first := g.Failures[0].Failure
		f := rules.Finding{Rule: r.ID(), Action: action, Preexisting: held, Field: g.Key, Key: g.Key, Subjects: g.Clients()}
		host := first.Host
		if first.TLS != nil && first.TLS.Rule != nil {
			host = first.TLS.Rule.Host
		}
		mode := "ISTIO_MUTUAL"
		if first.TLS == nil {
			mode = "auto mTLS (the endpoints carry tlsMode istio)"
		}
		switch {
		case len(services) == 1 && first.Policy != nil && first.PolicyBad == first.Bad:
			fix := "keep the port PERMISSIVE until the DestinationRule stops forcing ISTIO_MUTUAL (with tls unset, auto mTLS sends plaintext where mTLS is disabled)"
			if in.Change.Ref.Kind != rules.KindPeerAuthentication {
				fix = "leave tls unset for this host (auto mTLS sends plaintext where mTLS is disabled), or make that port PERMISSIVE first"
			}
			f.Message = fmt.Sprintf("%s towards %s, but %s: requests from %s fail the TLS handshake — %s",
				mode, first.Host, detail[0], g.ClientText(), fix)
		case len(services) == 1:
			fix := "inject them first, or use mode DISABLE for this host until they are"
			if first.Endpoints() != "pods" {
				fix = "run the Istio proxy on them first (a WorkloadEntry with a service account, without tlsMode disabled), or use mode DISABLE for this host until they do"
			}
			f.Message = fmt.Sprintf("%s towards %s, but %s: requests from %s fail the TLS handshake — %s",
				mode, first.Host, detail[0], g.ClientText(), fix)
		default:
			f.Message = fmt.Sprintf("ISTIO_MUTUAL towards %s reaches %d Service(s) whose servers have no proxy to terminate it: %s — requests to them fail the TLS handshake; inject them first, or exclude these hosts (a more specific rule with mode DISABLE) until they are",
				host, len(services), serviceRefs(services))
		}
		if action == rules.Warn {
			f.Message = "no client reached it before, so nothing breaks yet: " + f.Message
		}
		out = append(out, f)
	}
	return out
}

// tlsField is the field a TLS failure points at in the written object: the
// rule's TLS setting when the written DestinationRule decided what the
// client sends, the route's destination when a written VirtualService sends
// traffic there, the policy's mode when a written PeerAuthentication made
// the server STRICT. "" when the written object is not involved.
func tlsField(in *rules.Input, pf rules.PathFailure) string {
	f := pf.Failure
	switch {
	case in.DR != nil || in.Change.OldDR != nil:
		if f.TLS != nil && f.TLS.Rule != nil && in.DR != nil && f.TLS.Rule.Namespace == in.DR.Namespace && f.TLS.Rule.Name == in.DR.Name {
			return f.TLS.Setting.Field + ".mode"
		}
		if pf.Broken {
			return "spec" // the write changed which rule decides (a deletion, a shadowing rule)
		}
	case in.VS != nil:
		if f.VS != nil && f.VS.Namespace == in.VS.Namespace && f.VS.Name == in.VS.Name {
			return f.Field
		}
		if f.VS == nil && pf.Broken && in.Change.OldVS != nil {
			return "spec.hosts" // the host was dropped: its clients take the default route
		}
	case in.Change.OldVS != nil && pf.Broken:
		return "spec" // deleted: its clients take another route
	case state.GatewayRouteKind(in.Change.Ref.Kind):
		// A Gateway API route write sends its clients' traffic under the
		// TLS the backend's rule decides (the oracle's judge found such
		// writes admitted): its backendRef, or the whole route for a
		// delete or a route that handed its host to another.
		if f.VS != nil && f.VS.Kind == in.Change.Ref.Kind && f.VS.Namespace == in.Change.Ref.Namespace && f.VS.Name == in.Change.Ref.Name && in.Change.New != nil {
			return f.Field
		}
		if pf.Broken {
			return "spec"
		}
	}
	return ""
}

func containsPrefix(list []string, prefix string) bool {
	for _, x := range list {
		if strings.HasPrefix(x, prefix+" ") {
			return true
		}
	}
	return false
}
