// Package gateway holds the rules that judge Istio Gateway writes (MG602).
package gateway

import (
	"strings"

	"github.com/meshguard/meshguard/pkg/paths"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// All returns the Gateway rules.
func All() []rules.Rule { return []rules.Rule{boundRoutesLost{}} }

// boundRoutesLost (MG602) explains the paths a Gateway write takes from the
// VirtualServices bound to it: deleting the Gateway, a selector that no
// longer picks the gateway pods, or servers that no longer accept a bound
// host on a port (the reverse of MG305, which judges the binding from the
// VirtualService's side). The gateway's callers are outside the state; the
// bound route is the evidence that they exist.
type boundRoutesLost struct{}

func (boundRoutesLost) ID() string { return "MG602" }

func (boundRoutesLost) Kind() string { return rules.KindGateway }

func (boundRoutesLost) Reads() []state.Kind { return nil }

func (boundRoutesLost) WriteKinds() []string { return []string{rules.KindGateway} }

func (r boundRoutesLost) Check(in *rules.Input) []rules.Finding {
	deleted := in.Change.New == nil
	var out []rules.Finding
	for _, g := range rules.GroupFailures(in.Failures(paths.NoGateway), func(f rules.PathFailure) string {
		return field(f.Failure, deleted) + "|" + f.Failure.Host
	}) {
		why := g.Failures[0].Failure.Detail
		if deleted {
			why = "without this Gateway"
		}
		out = append(out, g.GatewayFinding(r.ID(), why, "move or delete those VirtualServices first, or keep a server for the host"))
	}
	return out
}

// field is the part of the Gateway a failure comes from.
func field(f paths.Failure, deleted bool) string {
	switch {
	case deleted:
		return "spec"
	case strings.Contains(f.Detail, "selects no gateway pod"):
		return "spec.selector"
	}
	return "spec.servers"
}
