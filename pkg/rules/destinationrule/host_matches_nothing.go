package destinationrule

import (
	"fmt"
	"strings"

	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// hostMatchesNothing (MG205) warns about a rule whose host matches no Service
// and no ServiceEntry: it configures nothing.
type hostMatchesNothing struct{ drRule }

func (hostMatchesNothing) ID() string { return "MG205" }

func (hostMatchesNothing) Reads() []state.Kind {
	return []state.Kind{state.NamespaceKind, state.ServiceEntryKind, state.ServiceKind}
}

func (r hostMatchesNothing) Check(in *rules.Input) []rules.Finding {
	dr := in.DR
	if dr == nil || dr.Host == "" {
		return nil
	}
	if strings.HasPrefix(dr.Host, "*") {
		return r.wildcard(in, dr)
	}
	res := target(in, dr)
	if res.Found() {
		return nil
	}
	msg := fmt.Sprintf("host %s matches no Service and no ServiceEntry, so this rule applies to nothing", dr.Host)
	if res.Unexpanded {
		msg = fmt.Sprintf("host %s is not expanded by Istio and matches no Service; write %s", dr.Host, res.Suggest)
	}
	return []rules.Finding{{Rule: r.ID(), Action: rules.Warn, Field: "spec.host", Key: res.FQDN, Message: msg}}
}

// wildcard warns about a wildcard host that covers no Service and no
// ServiceEntry host (a typo such as *.shpo.svc.cluster.local).
func (r hostMatchesNothing) wildcard(in *rules.Input, dr *state.DestinationRule) []rules.Finding {
	pattern := in.Routing.Hosts.FQDN(dr.Host, dr.Namespace)
	for _, ns := range in.State.NamespaceNames() {
		for _, svc := range in.State.Services(ns) {
			if mesh.HostScore(pattern, in.Routing.Hosts.FQDN(svc.Name, svc.Namespace)) > 0 {
				return nil
			}
		}
	}
	for _, se := range in.State.ServiceEntries() {
		for _, h := range se.Hosts {
			if mesh.HostsOverlap(pattern, h) {
				return nil
			}
		}
	}
	return []rules.Finding{{Rule: r.ID(), Action: rules.Warn, Field: "spec.host", Key: pattern,
		Message: fmt.Sprintf("host %s matches no Service and no ServiceEntry, so this rule applies to nothing", dr.Host)}}
}
