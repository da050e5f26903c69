package destinationrule

import (
	"fmt"
	"slices"
	"strings"

	"github.com/meshguard/meshguard/pkg/paths"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// disableTowardsStrict (MG202) explains paths broken because meshed clients
// send plaintext (tls mode DISABLE) to servers whose proxies enforce STRICT
// mTLS on that port: every connection is reset. Either order breaks it — a
// rule with DISABLE over STRICT servers, or STRICT (namespace-wide, mesh-wide,
// or by deleting a PERMISSIVE exception) over servers that live rules reach in
// plaintext — so the rule explains DestinationRule, VirtualService and
// PeerAuthentication writes alike.
type disableTowardsStrict struct{ drRule }

func (disableTowardsStrict) ID() string { return "MG202" }

func (disableTowardsStrict) Reads() []state.Kind { return nil }

func (disableTowardsStrict) WriteKinds() []string {
	return []string{rules.KindDestinationRule, rules.KindVirtualService, rules.KindPeerAuthentication, rules.KindService,
		rules.KindHTTPRoute, rules.KindGRPCRoute}
}

func (r disableTowardsStrict) Check(in *rules.Input) []rules.Finding {
	if in.Change.Ref.Kind == rules.KindService { // a selector onto pods that refuse what clients send
		return in.ServiceWrite(r.ID(), paths.PlainToStrict, func(*state.VirtualService) bool { return true })
	}
	var out []rules.Finding
	key := func(f rules.PathFailure) string {
		if in.Change.Ref.Kind == rules.KindPeerAuthentication {
			return policyField(in)
		}
		return tlsField(in, f)
	}
	for _, g := range rules.GroupFailures(in.Failures(paths.PlainToStrict), key) {
		action, held := g.Verdict()
		var services, drs []string
		first := g.Failures[0].Failure
		for _, pf := range g.Failures {
			f := pf.Failure
			if f.TLS != nil && f.TLS.Rule != nil {
				if dr := f.TLS.Rule.Namespace + "/" + f.TLS.Rule.Name; !slices.Contains(drs, dr) {
					drs = append(drs, dr)
				}
			}
			ref := f.BackendRef()
			if containsPrefix(services, ref) {
				continue
			}
			src := "Istio's default"
			if f.Policy != nil {
				src = "PeerAuthentication " + f.Policy.Namespace + "/" + f.Policy.Name
			}
			services = append(services, fmt.Sprintf("%s (%d of %d Ready pods STRICT by %s: %s)", ref, f.Bad, f.Ready, src, strings.Join(f.Pods, ", ")))
		}
		rule := "a DestinationRule (tls mode DISABLE)"
		switch {
		case len(drs) > 1:
			// A policy write reaching several hosts, each with its own rule.
			rule = "DestinationRules " + strings.Join(drs[:min(len(drs), examples)], ", ")
			if len(drs) > examples {
				rule += fmt.Sprintf(" and %d more", len(drs)-examples)
			}
			rule += " (tls mode DISABLE)"
		case first.TLS != nil && first.TLS.Rule != nil:
			rule = "DestinationRule " + first.TLS.Rule.Namespace + "/" + first.TLS.Rule.Name + " (tls mode DISABLE)"
		case first.TLS != nil && first.TLS.Inferred != nil:
			// istiod infers a Service's mode from its namespace's policy and
			// turns auto mTLS off for it, whatever the workload policies say.
			rule = fmt.Sprintf("auto mTLS, turned to plaintext by the DISABLE of PeerAuthentication %s/%s,", first.TLS.Inferred.Namespace, first.TLS.Inferred.Name)
		}
		f := rules.Finding{Rule: r.ID(), Action: action, Preexisting: held, Field: g.Key, Key: g.Key, Subjects: g.Clients()}
		switch {
		case in.Change.Ref.Kind == rules.KindPeerAuthentication:
			f.Message = fmt.Sprintf("%s make%s %s send plaintext to %s, whose proxies enforce STRICT there: every connection is reset — use ISTIO_MUTUAL (or drop the DISABLE) first, or keep these pods PERMISSIVE",
				rule, verbS(len(drs) <= 1), g.ClientText(), serviceRefs(services))
		default:
			f.Message = fmt.Sprintf("DISABLE sends plaintext from %s to %s: every connection is reset — use ISTIO_MUTUAL, or remove the tls block",
				g.ClientText(), serviceRefs(services))
		}
		if action == rules.Warn {
			f.Message = "no client reached it before, so nothing breaks yet: " + f.Message
		}
		out = append(out, f)
	}
	return out
}

// policyField is the field of a written PeerAuthentication its mode
// findings point at (see rules.Input.PolicyModeField).
func policyField(in *rules.Input) string { return in.PolicyModeField() }

// verbS is the "s" of a verb whose subject is one thing.
func verbS(one bool) string {
	if one {
		return "s"
	}
	return ""
}
