package destinationrule

import (
	"fmt"
	"strings"

	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/paths"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// subsetWithoutPods (MG203) explains paths a DestinationRule write breaks by
// leaving a routed subset with no Ready pod (new labels that select pods
// still starting or none at all: Argo Rollouts relabelling on its first
// rollout), and warns about subsets that select no running pod of the host's
// Service while nothing routes to them. Pending pods are not running.
type subsetWithoutPods struct{ drRule }

func (subsetWithoutPods) ID() string { return "MG203" }

// Namespaces, pods and Gateways also tell a multi-cluster mesh (rules.RemoteEndpoints).
func (subsetWithoutPods) Reads() []state.Kind {
	return []state.Kind{state.PodKind, state.ServiceEntryKind, state.ServiceKind, state.NamespaceKind, state.GatewayKind, state.WorkloadEntryKind}
}

func (subsetWithoutPods) WriteKinds() []string { return []string{rules.KindDestinationRule} }

func (r subsetWithoutPods) Check(in *rules.Input) []rules.Finding {
	dr := in.DR
	var out []rules.Finding
	explained := map[string]bool{}
	for _, g := range rules.GroupFailures(in.Failures(paths.NoReady), func(f rules.PathFailure) string {
		if f.Failure.Dest.Subset == "" || dr == nil {
			return ""
		}
		for i, s := range dr.Subsets {
			if s.Name == f.Failure.Dest.Subset {
				return fmt.Sprintf("spec.subsets[%d].labels", i)
			}
		}
		return ""
	}) {
		action, held := g.Verdict()
		f := g.Failures[0].Failure
		explained[f.Dest.Subset] = true
		sub := subsetLabels(dr, f.Dest.Subset)
		via := "the default route"
		if f.VS != nil {
			via = "VirtualService " + f.VS.Namespace + "/" + f.VS.Name
		}
		selects := fmt.Sprintf("no Ready pod of %s (labels %s: %d running or starting, none Ready)", f.Backend(), labelText(sub), f.Live)
		what := f.Endpoints()
		if what != "pods" { // VMs, a ServiceEntry's endpoints: say what they are
			none, _ := f.NoReady()
			selects = fmt.Sprintf("no Ready endpoint of %s (labels %s; %s", f.Backend(), labelText(sub), strings.TrimPrefix(none, "no Ready endpoint ("))
		}
		msg := fmt.Sprintf("subset %s selects %s, and %s sends %d%% of its traffic there for %s: those requests fail with 503 — fix the labels, or route 0%% to %s until its %s are Ready",
			f.Dest.Subset, selects, via, g.MaxShare(), g.ClientText(), f.Dest.Subset, what)
		if action == rules.Warn {
			msg = "no Ready backend yet (nothing reached it before, so nothing breaks): " + msg
		}
		if a, remote := rules.RemoteEndpoints(in, action); remote != "" {
			action, held, msg = a, false, msg+remote
		}
		out = append(out, rules.Finding{Rule: r.ID(), Action: action, Preexisting: held, Field: g.Key, Key: f.Dest.Subset,
			Subjects: g.Clients(), Message: msg})
	}
	if dr == nil {
		return out
	}
	res := target(in, dr)
	if res.Service == nil || len(res.Service.Selector) == 0 {
		return out // MG205 reports hosts that match no Service; hand-managed endpoints select no pods
	}
	for i, sub := range dr.Subsets {
		// Endpoint labels (cluster, zone) cannot be judged from pods; pods
		// still starting (a new ReplicaSet the canary subset was just
		// pointed at) are on their way, not a mistake.
		if explained[sub.Name] || !mesh.JudgedByPods(sub.Labels) || len(livePods(in.State, res.Service, sub.Labels)) > 0 ||
			selectsEntry(in.State, res.Service, sub.Labels) {
			continue
		}
		out = append(out, rules.Finding{Rule: r.ID(), Action: rules.Warn, Field: fmt.Sprintf("spec.subsets[%d].labels", i), Key: sub.Name,
			Message: fmt.Sprintf("subset %s selects no running pod of Service %s/%s (labels %s); routing to it would fail",
				sub.Name, res.Service.Namespace, res.Service.Name, labelText(sub.Labels))})
	}
	return out
}
