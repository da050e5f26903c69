package authorizationpolicy

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/meshguard/meshguard/pkg/authz"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// appliesToNothing (MG703) warns when an update moves a policy off every
// workload it applied to and onto none: a typo in the selector or a
// targetRef. Istio attaches such a policy to nothing (pilot/pkg/model/
// policyattachment.go ShouldAttachPolicy: the selector matches no workload's
// labels, or no gateway carries the named Gateway's name), so its rules stop
// applying to the pods it governed: a DENY stops refusing, an ALLOW stops
// deciding. Callers it cuts as well (an ALLOW posture left with nothing
// that allows them) are MG701's. A policy created, or kept, on no workload
// is not warned about: its pods may simply not run yet.
type appliesToNothing struct{}

func (appliesToNothing) ID() string { return "MG703" }

func (appliesToNothing) Kind() string { return rules.KindAuthorizationPolicy }

func (appliesToNothing) Reads() []state.Kind {
	return []state.Kind{state.NamespaceKind, state.PodKind}
}

// maxPods is how many of the pods a policy left a message names.
const maxPods = 3

func (r appliesToNothing) Check(in *rules.Input) []rules.Finding {
	old, new := policyOf(in.Change.Old), policyOf(in.Change.New)
	if in.Phase != rules.After || old == nil || new == nil || old.DryRun ||
		maps.Equal(old.Selector, new.Selector) && slices.Equal(old.TargetRefs, new.TargetRefs) {
		return nil
	}
	root := in.Routing.RootNamespace()
	if n, _ := attachedPods(in.State, root, new, 1); n > 0 {
		return nil
	}
	n, names := attachedPods(in.State, root, old, maxPods+1)
	if n == 0 {
		return nil
	}
	left := strings.Join(names[:min(len(names), maxPods)], ", ")
	if n > maxPods {
		left += " and more"
	}
	fld, how := "spec.selector", "it matches no pod with a proxy"
	if len(new.TargetRefs) > 0 {
		fld, how = "spec.targetRefs", "no gateway pod belongs to a Gateway it names"
	}
	if new.Namespace != root || len(new.TargetRefs) > 0 {
		how += " in " + new.Namespace
	}
	effect := "its ALLOW rules stop deciding who may call them"
	switch new.Action {
	case state.AuthzDeny:
		effect = "its DENY rules stop refusing anyone there"
	case state.AuthzAudit:
		effect = "their requests are no longer audited"
	case state.AuthzCustom:
		effect = "their requests are no longer sent to the external authorizer"
	}
	return []rules.Finding{{Rule: r.ID(), Action: rules.Warn, Field: fld, Key: fld, Subjects: names,
		Message: fmt.Sprintf("moves the policy off %s onto nothing (%s), so Istio applies it nowhere and %s — check %s for a typo", left, how, effect, fld)}}
}

// attachedPods counts, up to limit, the live pods with a proxy (sidecar,
// gateway or ambient) ap applies to (authz.Applies), and names them
// ns/pod: those of its namespace, or of every namespace for a policy of
// the root namespace without targetRefs.
func attachedPods(s state.Snapshot, root string, ap *state.AuthorizationPolicy, limit int) (int, []string) {
	namespaces := []string{ap.Namespace}
	if ap.Namespace == root && len(ap.TargetRefs) == 0 {
		namespaces = s.NamespaceNames()
	}
	var names []string
	for _, ns := range namespaces {
		s.ForEachPod(ns, func(p *state.Pod) bool {
			if (p.Sidecar || p.AmbientRedirected) && !p.Finished() && authz.Applies(ap, root, ns, p.Labels) {
				names = append(names, ns+"/"+p.Name)
			}
			return len(names) < limit
		})
		if len(names) >= limit {
			break
		}
	}
	slices.Sort(names) // ForEachPod's order is not stable
	return len(names), names
}
