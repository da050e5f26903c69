package destinationrule

import (
	"fmt"
	"strings"

	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// disableTowardsStrict (MG202) denies plaintext (tls mode DISABLE) towards
// servers that enforce STRICT mTLS: every connection is reset. Wildcard hosts
// are judged for every Service they govern (see governed).
type disableTowardsStrict struct{ drRule }

func (disableTowardsStrict) ID() string { return "MG202" }

func (r disableTowardsStrict) Check(in *rules.Input) []rules.Finding {
	dr := in.DR
	if dr == nil {
		return nil
	}
	var services []governedService
	var out []rules.Finding
	for _, t := range mesh.TLSSettings(dr) {
		if t.TLS.Mode != "DISABLE" {
			continue
		}
		if services == nil {
			services = governed(in, dr)
		}
		var broken, subjects []string
		var first string
		for _, g := range services {
			if !applies(g, dr, t) {
				continue
			}
			strict, source := r.strictPods(in, g, t)
			if len(strict) == 0 {
				continue
			}
			ref := g.Service.Namespace + "/" + g.Service.Name
			subjects = append(subjects, ref)
			broken = append(broken, fmt.Sprintf("%s (%d pods, PeerAuthentication %s/%s)", ref, len(strict), source.Namespace, source.Name))
			if first == "" {
				first = fmt.Sprintf("%s, but %d of its pods enforce STRICT mTLS (PeerAuthentication %s/%s): %s reset every connection",
					g.FQDN, len(strict), source.Namespace, source.Name, names(strict))
			}
		}
		if len(broken) == 0 {
			continue
		}
		f := rules.Finding{Rule: r.ID(), Action: rules.Deny, Field: t.Field + ".mode", Key: t.Field, Subjects: subjects}
		if strings.HasPrefix(dr.Host, "*") {
			f.Message = fmt.Sprintf("DISABLE sends plaintext to %d Service(s) under %s whose pods enforce STRICT mTLS: %s — every connection is reset; use ISTIO_MUTUAL, or remove the tls block",
				len(broken), dr.Host, serviceRefs(broken))
		} else {
			f.Message = "DISABLE sends plaintext to " + first + " — use ISTIO_MUTUAL, or remove the tls block"
		}
		out = append(out, f)
	}
	return out
}

// strictPods lists the meshed pods of g (in the setting's subset) that
// enforce STRICT on a port the setting covers, with the deciding policy.
func (disableTowardsStrict) strictPods(in *rules.Input, g governedService, t mesh.TLSSetting) ([]*state.Pod, *state.PeerAuthentication) {
	sub, _ := g.Rules.Subset(t.Subset)
	var labels map[string]string
	if sub != nil {
		labels = sub.Labels
	}
	var strict []*state.Pod
	var source *state.PeerAuthentication
	for _, p := range livePods(in.State, g.Service, labels) {
		if !mesh.InMesh(p, in.State.Namespace(p.Namespace)) {
			continue
		}
		for _, sp := range g.Service.Ports {
			if t.Port != 0 && uint32(sp.Port) != t.Port {
				continue
			}
			if eff := in.Policies.WorkloadMode(in.State, p.Namespace, p.Labels, mesh.TargetPort(sp, p)); eff.Mode == state.ModeStrict {
				strict, source = append(strict, p), eff.Source
				break
			}
		}
	}
	return strict, source
}
