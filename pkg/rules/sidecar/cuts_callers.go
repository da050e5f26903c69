// Package sidecar holds the rules that judge Sidecar writes (MG603).
package sidecar

import (
	"fmt"
	"slices"
	"strings"

	"github.com/meshguard/meshguard/pkg/paths"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// All returns the Sidecar rules.
func All() []rules.Rule { return []rules.Rule{cutsCallers{}} }

// cutsCallers (MG603) explains the paths a Sidecar write blackholes: after
// it, the Sidecar that applies to a client class (pilot/pkg/model
// push_context.go getSidecarScope: the written one, or the one its
// workloads fall back to when it is deleted or stops selecting them)
// imports no such host on the port, and its outboundTrafficPolicy is
// REGISTRY_ONLY, so the proxies send the call to the BlackHoleCluster (502).
// Under ALLOW_ANY the call leaves Istio's routing and is not judged (see
// paths.Model.imported).
type cutsCallers struct{}

type hostPort struct {
	host string
	port uint32
}

func (k hostPort) String() string { return fmt.Sprintf("%s on port %d", k.host, k.port) }

func (cutsCallers) ID() string { return "MG603" }

func (cutsCallers) Kind() string { return rules.KindSidecar }

func (cutsCallers) Reads() []state.Kind { return nil }

func (cutsCallers) WriteKinds() []string { return []string{rules.KindSidecar} }

func (r cutsCallers) Check(in *rules.Input) []rules.Finding {
	written := in.Change.Ref.Namespace + "/" + in.Change.Ref.Name
	var out []rules.Finding
	// One finding per Sidecar that cuts, naming the hosts (a narrowing can
	// cut thousands: the count and the first few) and the clients.
	keys := map[*state.Sidecar]string{} // a key per Sidecar, not per failure
	for _, g := range rules.GroupFailures(in.Failures(paths.NotImported), func(f rules.PathFailure) string {
		sc := f.Failure.Sidecar
		if sc == nil {
			return ""
		}
		k, ok := keys[sc]
		if !ok {
			k = fieldOf(in, sc) + "|" + sc.Namespace + "/" + sc.Name
			keys[sc] = k
		}
		return k
	}) {
		action, held := g.Verdict()
		if g.Broken() {
			// Name the clients the write cuts, not those cut before.
			g.Failures = slices.DeleteFunc(g.Failures, func(pf rules.PathFailure) bool { return !pf.Broken })
		}
		f := g.Failures[0].Failure
		fld, applied, _ := strings.Cut(g.Key, "|")
		// A set beside the list: a narrowing can cut thousands of hosts,
		// of which the message names the first three.
		var hosts []hostPort
		seen := make(map[hostPort]bool, len(g.Failures))
		for _, pf := range g.Failures {
			if k := (hostPort{pf.Failure.Host, pf.Failure.Port}); !seen[k] {
				seen[k] = true
				hosts = append(hosts, k)
			}
		}
		hostText := "no " + hosts[0].String()
		if len(hosts) > 1 {
			shown := make([]string, 0, 3)
			for _, k := range hosts[:min(3, len(hosts))] {
				shown = append(shown, k.String())
			}
			hostText = fmt.Sprintf("none of %d hosts: %s", len(hosts), strings.Join(shown, ", "))
			if len(hosts) > 3 {
				hostText += fmt.Sprintf(" and %d more", len(hosts)-3)
			}
		}
		hostNS := hostNamespace(g)
		imp := hostNS + "/" + f.Host
		var fix string
		if len(hosts) > 1 {
			imp = "namespace/host"
		}
		if applied == written && in.Change.New != nil {
			fix = fmt.Sprintf("add %q (or %q) to spec.egress[].hosts of Sidecar %s", imp, hostNS+"/*", applied)
			if len(hosts) > 1 {
				fix = fmt.Sprintf("add each as %q (or its namespace as \"namespace/*\") to spec.egress[].hosts of Sidecar %s", imp, applied)
			}
		} else {
			fix = fmt.Sprintf("keep this Sidecar, or first add %q to spec.egress[].hosts of Sidecar %s", imp, applied)
		}
		policy := "its outboundTrafficPolicy is REGISTRY_ONLY"
		if f.Sidecar.Outbound == "" {
			policy = "the mesh config's outboundTrafficPolicy (configuration outboundTrafficPolicy) is REGISTRY_ONLY"
		}
		msg := fmt.Sprintf("Sidecar %s imports %s for %s and %s: their calls go to the BlackHoleCluster and fail with 502 — %s",
			applied, hostText, g.ClientText(), policy, fix)
		if action == rules.Warn && !held {
			msg = "nothing reached that host before, so nothing breaks yet: " + msg
		}
		out = append(out, rules.Finding{Rule: r.ID(), Action: action, Preexisting: held, Field: fld, Key: g.Key,
			Subjects: g.Clients(), Message: msg})
	}
	return out
}

// fieldOf is the part of the written Sidecar a cut comes from: its egress
// hosts when it is the one that applies, else the whole object (deleting it,
// or its selector, handed the clients to another Sidecar).
func fieldOf(in *rules.Input, sc *state.Sidecar) string {
	if in.Change.New == nil || sc.Namespace != in.Change.Ref.Namespace || sc.Name != in.Change.Ref.Name {
		return "spec"
	}
	if len(sc.Egress) == 0 {
		return "spec.outboundTrafficPolicy"
	}
	return "spec.egress"
}

// hostNamespace is the namespace of the host's Service or ServiceEntry, for
// the import to add ("*" when the failure does not say).
func hostNamespace(g rules.Group) string {
	for _, pf := range g.Failures {
		if ns := pf.Failure.BackendNamespace(); ns != "" {
			return ns
		}
	}
	return "*"
}
