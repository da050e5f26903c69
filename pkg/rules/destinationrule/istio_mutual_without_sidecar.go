package destinationrule

import (
	"fmt"
	"strings"

	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// istioMutualWithoutSidecar (MG201) denies ISTIO_MUTUAL towards servers with
// no proxy to terminate Istio's mTLS: pods without a sidecar or ambient
// enrolment, and Services without a selector, whose endpoints (the API server
// behind kubernetes.default, hand-managed addresses) live outside the mesh.
// Wildcard hosts are judged for every Service they govern: `*.local` with
// ISTIO_MUTUAL over sidecar-less servers is the classic mesh-wide outage.
type istioMutualWithoutSidecar struct{ drRule }

func (istioMutualWithoutSidecar) ID() string { return "MG201" }

func (r istioMutualWithoutSidecar) Check(in *rules.Input) []rules.Finding {
	dr := in.DR
	if dr == nil {
		return nil
	}
	settings := mesh.TLSSettings(dr)
	var services []governedService
	var out []rules.Finding
	for _, t := range settings {
		if t.TLS.Mode != "ISTIO_MUTUAL" {
			continue
		}
		if services == nil {
			services = governed(in, dr)
		}
		var broken, subjects, detail []string
		for _, g := range services {
			if !applies(g, dr, t) {
				continue
			}
			ref := g.Service.Namespace + "/" + g.Service.Name
			if len(g.Service.Selector) == 0 {
				broken = append(broken, ref+" (no selector: its endpoints are outside the mesh)")
				detail = append(detail, "it has no selector, so its endpoints are outside the mesh")
				subjects = append(subjects, ref)
				continue
			}
			sub, _ := g.Rules.Subset(t.Subset)
			var labels map[string]string
			if sub != nil {
				labels = sub.Labels
			}
			pods := livePods(in.State, g.Service, labels)
			var without []*state.Pod
			for _, p := range pods {
				if !mesh.InMesh(p, in.State.Namespace(p.Namespace)) {
					without = append(without, p)
				}
			}
			if len(without) > 0 {
				broken = append(broken, fmt.Sprintf("%s (%d of %d pods without a sidecar: %s)", ref, len(without), len(pods), names(without)))
				detail = append(detail, fmt.Sprintf("%d of its %d pods have no sidecar (%s)", len(without), len(pods), names(without)))
				subjects = append(subjects, ref)
			}
		}
		if len(broken) == 0 {
			continue
		}
		f := rules.Finding{Rule: r.ID(), Action: rules.Deny, Field: t.Field + ".mode", Key: t.Field, Subjects: subjects}
		if !strings.HasPrefix(dr.Host, "*") {
			f.Message = fmt.Sprintf("ISTIO_MUTUAL towards %s, but %s: requests to them fail the TLS handshake — inject them first, or use mode DISABLE for this host until they are",
				services[0].FQDN, detail[0])
			out = append(out, f)
			continue
		}
		out = append(out, rules.Finding{
			Rule: r.ID(), Action: rules.Deny, Field: t.Field + ".mode", Key: t.Field, Subjects: subjects,
			Message: fmt.Sprintf("ISTIO_MUTUAL towards %s reaches %d Service(s) whose servers have no proxy to terminate it: %s — requests to them fail the TLS handshake; inject them first, or exclude these hosts (a more specific rule with mode DISABLE) until they are",
				dr.Host, len(broken), serviceRefs(broken)),
		})
	}
	return out
}
