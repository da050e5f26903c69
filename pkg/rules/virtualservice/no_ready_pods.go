package virtualservice

import (
	"fmt"

	"github.com/meshguard/meshguard/pkg/paths"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// noReadyPods (MG302) explains routes that send traffic to a subset or host
// with no Ready pod: those requests fail with 503. Weight 0 is fine: that is
// how a canary is staged. It denies when the write breaks a path that worked
// or raises the failing share of a host that was reached (a canary weight
// raised from 40% to 60% while its pods are down); a route that already
// failed warns, and so does a host nothing reached before (a fresh install
// whose pods are not Ready yet).
type noReadyPods struct{ vsRule }

func (noReadyPods) ID() string { return "MG302" }

// Namespaces, pods and Gateways tell a multi-cluster mesh (rules.RemoteEndpoints);
// a created Service may take its host from a ServiceEntry, and a Service's
// pods tell a targetPort they do not declare (rules.ServiceWrite).
func (noReadyPods) Reads() []state.Kind {
	return []state.Kind{state.NamespaceKind, state.PodKind, state.GatewayKind, state.ServiceEntryKind, state.ServiceKind}
}

// A Service write brings the same cause to the routes that use it.
func (noReadyPods) WriteKinds() []string {
	return []string{rules.KindVirtualService, rules.KindService}
}

// Deleting a VirtualService sends its clients down the host's default route:
// when the host's own Service has no Ready pod (Flagger routes podinfo to
// podinfo-primary; podinfo itself selects nothing), that breaks them too.
func (r noReadyPods) Check(in *rules.Input) []rules.Finding {
	if in.Change.Ref.Kind == rules.KindService {
		return in.ServiceWrite(r.ID(), paths.NoReady, rules.ByVirtualServices)
	}
	if in.VS == nil && in.Change.OldVS == nil {
		return nil
	}
	var out []rules.Finding
	for _, g := range routeFailures(in, paths.NoReady) {
		action, held := g.Verdict()
		f := g.Failures[0].Failure
		what := f.Host
		if f.Dest.Subset != "" {
			what = "subset " + f.Dest.Subset + " of " + f.Dest.Host
		} else {
			what = f.Dest.Host
		}
		none, noun := f.NoReady()
		msg := fmt.Sprintf("sends %d%% of the route's traffic to %s, which has %s: those requests fail with 503 — wait until its %s are Ready, or give it weight 0",
			g.MaxShare(), what, none, noun)
		if g.Key == "spec" || g.Key == "spec.hosts" {
			how := "deleting it"
			if g.Key == "spec.hosts" {
				how = "no longer routing " + f.Host
			}
			msg = fmt.Sprintf("%s sends %s to the host's own %s, which has %s: those requests fail with 503 — keep the route until it has Ready %s",
				how, g.ClientText(), f.Backend(), none, noun)
		}
		if action == rules.Warn {
			msg = "no Ready backend yet (nothing reached it before, so nothing breaks): " + msg
		}
		if a, remote := rules.RemoteEndpoints(in, action); remote != "" {
			action, held, msg = a, false, msg+remote
		}
		out = append(out, rules.Finding{Rule: r.ID(), Action: action, Preexisting: held, Field: g.Key, Key: g.Key,
			Subjects: g.Clients(), Message: msg})
	}
	return out
}
