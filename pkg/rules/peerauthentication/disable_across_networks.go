package peerauthentication

import (
	"fmt"
	"strings"

	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// disableAcrossNetworks (MG109) denies DISABLE over meshed pods that
// clients on other networks reach through this cluster's east-west gateway.
//
// In a multi-network mesh the east-west gateway's AUTO_PASSTHROUGH server
// (Istio's expose-services.yaml) forwards connections by the SNI of Istio
// mTLS without terminating them, so traffic crosses networks only as mTLS
// from the client's sidecar to the pod's. istiod drops a remote-network
// endpoint it would not send mTLS to (pilot/pkg/xds/endpoints/ep_filters.go,
// EndpointsByNetworkFilter: "Cross-network traffic relies on mTLS for SNI
// routing in sidecar mode ... if mTLS is not enabled for the target endpoint
// on a remote network we skip it"; mtls_checker.go decides from the
// PeerAuthentication's DISABLE). The other clusters' istiods read their own
// clusters' policies, not this one: one that holds the DISABLE drops these
// endpoints, one that does not sends mTLS that the pods, DISABLE, no longer
// terminate. Either way clients on other networks lose these pods, and
// meshguard, which sees only this cluster, knows it from this cluster's
// objects alone: the gateway exposing the hosts and the policy. The
// callers it cannot see are in the message. Like every rule it denies only
// what the write introduces.
type disableAcrossNetworks struct{ paRule }

func (disableAcrossNetworks) ID() string { return "MG109" }

func (disableAcrossNetworks) Reads() []state.Kind {
	return []state.Kind{state.PodKind, state.ServiceKind, state.PeerAuthenticationKind, state.GatewayKind}
}

func (r disableAcrossNetworks) Check(in *rules.Input) []rules.Finding {
	level, ok := scope(in)
	if !ok || level == mesh.LevelIgnored {
		return nil
	}
	exposed := mesh.CrossNetworkGateways(in.State)
	if len(exposed) == 0 {
		return nil
	}
	var out []rules.Finding
	for ns := range callerNamespaces(in, level, in.State.NamespaceNames) {
		if in.State.Coverage(ns).MeshedServers == 0 {
			continue
		}
		for _, svc := range in.State.Services(ns) {
			fqdn := in.Routing.Hosts.FQDN(svc.Name, svc.Namespace)
			gw := exposedBy(exposed, fqdn)
			if gw == nil {
				continue
			}
			if f, ok := r.service(in, level, svc, gw); ok {
				out = append(out, f)
			}
		}
	}
	return out
}

// service judges the Ready sidecars behind svc that the policy's scope
// covers and that end up DISABLE on a port the Service targets.
func (r disableAcrossNetworks) service(in *rules.Input, level mesh.Level, svc *state.Service, gw *state.Gateway) (rules.Finding, bool) {
	var pods []string
	count := 0
	in.State.ForEachServicePod(svc.Namespace, svc.Name, func(p *state.Pod) bool {
		if p.Finished() || !p.Ready || !p.Sidecar || p.Router || (level == mesh.LevelWorkload && !selectedByChange(in, p)) {
			return true
		}
		for _, sp := range svc.Ports {
			target := mesh.TargetPort(sp, p)
			if target == 0 || !p.InboundIntercepted(target) {
				continue
			}
			if in.Policies.WorkloadMode(in.State, p.Namespace, p.Labels, target).Mode == state.ModeDisable {
				count++
				if len(pods) < examples {
					pods = append(pods, p.Name)
				}
				break
			}
		}
		return true
	})
	if count == 0 {
		return rules.Finding{}, false
	}
	ref := svc.Namespace + "/" + svc.Name
	return rules.Finding{Rule: r.ID(), Action: rules.Deny, Field: modeField(in.PA), Key: "networks:" + ref, Subjects: []string{ref},
		Message: fmt.Sprintf("DISABLE turns off mTLS on %s of Service %s (%s), which clients on other networks reach only through east-west gateway %s/%s (AUTO_PASSTHROUGH for %s): traffic crosses networks only as Istio mTLS, so their istiod drops these endpoints, or sends mTLS these pods no longer take — those clients, in clusters meshguard cannot see, lose them; keep these pods PERMISSIVE (it takes plaintext and mTLS), or stop exposing %s across networks first",
			plural(count, "meshed pod", "meshed pods"), ref, list(pods, count), gw.Namespace, gw.Name, strings.Join(passthroughHosts(gw), ", "), svc.Name)}, true
}

// selectedByChange reports whether a workload policy of the write, before or
// after, selects p: only those pods change mode.
func selectedByChange(in *rules.Input, p *state.Pod) bool {
	for _, pa := range []*state.PeerAuthentication{in.Change.OldPA, in.Change.NewPA} {
		if pa != nil && pa.HasSelector() && state.SelectorMatches(pa.Selector, p.Labels) {
			return true
		}
	}
	return false
}

// exposedBy returns the first gateway whose AUTO_PASSTHROUGH hosts cover fqdn.
func exposedBy(gws []*state.Gateway, fqdn string) *state.Gateway {
	for _, gw := range gws {
		for _, h := range passthroughHosts(gw) {
			if mesh.HostScore(h, fqdn) > 0 {
				return gw
			}
		}
	}
	return nil
}

// passthroughHosts are the hosts of gw's AUTO_PASSTHROUGH servers, without
// a "namespace/" prefix.
func passthroughHosts(gw *state.Gateway) []string {
	var out []string
	for _, srv := range gw.Servers {
		if srv.TLSMode != state.AutoPassthrough {
			continue
		}
		for _, h := range srv.Hosts {
			if i := strings.IndexByte(h, '/'); i >= 0 {
				h = h[i+1:]
			}
			out = append(out, h)
		}
	}
	return out
}
