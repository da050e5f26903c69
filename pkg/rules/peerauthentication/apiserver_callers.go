package peerauthentication

import (
	"fmt"
	"slices"
	"strings"

	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// apiServerCallers denies, for MG101, STRICT over meshed pods the
// kube-apiserver calls: the Services named by validating and mutating
// webhook configurations, APIServices and CRD conversion webhooks. The API
// server speaks TLS of its own, not Istio mTLS, so to the pod's proxy
// (sidecar or ztunnel) it is a plaintext caller like any pod outside the mesh,
// and a STRICT listener ends its handshake (istio/istio#39290: "the api
// server is not capable of doing Istio mTLS ... You must use PERMISSIVE mode";
// istio/istio#52874 for ambient; knative-extensions/net-istio#150). What
// breaks is cluster-wide: every admission request the webhook reviews, every
// request to the aggregated API, every read of a CRD stored in another
// version. A port kept PERMISSIVE (or DISABLE) by portLevelMtls, or left out
// of the sidecar's inbound interception, still takes the call. Like every
// MG101 finding it denies only when the write introduces it, so deleting the
// PERMISSIVE exception that protects such a port is caught too. Gateways
// enforce no PeerAuthentication.
func (r strictWithoutSidecar) apiServerCallers(in *rules.Input, level mesh.Level) []rules.Finding {
	var out []rules.Finding
	for ns := range callerNamespaces(in, level, in.State.NamespacesCalledByAPIServer) {
		for _, svc := range in.State.Services(ns) {
			calls := in.State.APIServerCalls(ns, svc.Name)
			for i := 0; i < len(calls); {
				// Calls come sorted by port: judge each port once.
				j := i + 1
				for j < len(calls) && calls[j].Port == calls[i].Port {
					j++
				}
				if f, ok := r.apiServerPort(in, svc, calls[i:j]); ok {
					out = append(out, f)
				}
				i = j
			}
		}
	}
	return out
}

// apiServerPort judges the calls the API server makes to one port of svc.
func (r strictWithoutSidecar) apiServerPort(in *rules.Input, svc *state.Service, calls []state.APIServerCall) (rules.Finding, bool) {
	port := calls[0].Port
	i := slices.IndexFunc(svc.Ports, func(sp state.ServicePort) bool { return sp.Port == port })
	if i < 0 {
		return rules.Finding{}, false // the call fails already, whatever the mesh does
	}
	sp := svc.Ports[i]
	var pods, targets []string
	count := 0
	in.State.ForEachServicePod(svc.Namespace, svc.Name, func(p *state.Pod) bool {
		target := refusingPort(in, sp, p)
		if target == 0 {
			return true
		}
		count++
		if len(pods) < examples {
			pods = append(pods, p.Name)
		}
		if t := fmt.Sprint(target); !slices.Contains(targets, t) {
			targets = append(targets, t)
		}
		return true
	})
	if count == 0 {
		return rules.Finding{}, false
	}
	callers := make([]string, 0, examples)
	for _, c := range calls[:min(len(calls), examples)] {
		callers = append(callers, c.Caller())
	}
	ref := fmt.Sprintf("%s/%s:%d", svc.Namespace, svc.Name, port)
	exceptions := make([]string, len(targets))
	for i, t := range targets {
		exceptions[i] = t + ": {mode: PERMISSIVE}"
	}
	return rules.Finding{Rule: r.ID(), Action: rules.Deny, Field: modeField(in.PA), Key: "apiserver:" + ref, Subjects: []string{ref},
		Message: fmt.Sprintf("STRICT would reject the kube-apiserver, which calls Service %s/%s port %d (target port %s on %s: %s) for %s with TLS of its own, not Istio mTLS: %s — keep that port PERMISSIVE with a PeerAuthentication selecting those pods (portLevelMtls {%s}), exclude it from interception (traffic.sidecar.istio.io/excludeInboundPorts), or keep %s PERMISSIVE",
			svc.Namespace, svc.Name, port, strings.Join(targets, ", "), plural(count, "meshed pod", "meshed pods"), list(pods, count),
			list(callers, len(calls)), apiServerOutage(calls[0].Kind), strings.Join(exceptions, ", "), svc.Namespace)}, true
}

// refusingPort returns the container port behind sp on which p, Ready and
// meshed, enforces STRICT, so that a caller that is no proxy of the mesh is
// refused; 0 when it takes plaintext there (PERMISSIVE or DISABLE, the port
// left out of the sidecar's interception, no proxy at all, a gateway).
func refusingPort(in *rules.Input, sp state.ServicePort, p *state.Pod) uint32 {
	if p.Finished() || !p.Ready || (!p.Sidecar && !mesh.Ambient(p, in.State.Namespace(p.Namespace))) || gatewayPod(p) {
		return 0
	}
	target := mesh.TargetPort(sp, p)
	if target == 0 || (p.Sidecar && !p.InboundIntercepted(target)) {
		return 0
	}
	if in.Policies.WorkloadMode(in.State, p.Namespace, p.Labels, target).Mode != state.ModeStrict {
		return 0
	}
	return target
}

// apiServerOutage says what fails, cluster-wide, when the API server cannot
// call what an object of kind names.
func apiServerOutage(kind string) string {
	switch kind {
	case state.APIService:
		return "every request to the API it serves fails, cluster-wide"
	case state.CustomResourceDefinition:
		return "converting its objects between versions fails, so reads and writes of them fail cluster-wide"
	default:
		return "every admission request it reviews fails cluster-wide (or goes unreviewed, with failurePolicy: Ignore)"
	}
}
