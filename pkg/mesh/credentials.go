package mesh

import (
	"strings"

	"github.com/meshguard/meshguard/pkg/state"
)

// CredentialNamespaces are the namespaces whose proxies read a
// DestinationRule's credentialName Secret. With a workload selector, the
// sidecars of the rule's namespace read it there. Without one, sidecars never
// use credentialName: only the gateways that route to the rule's host do,
// each in its own pods' namespace — gateway pods selected by a Gateway that a
// VirtualService with a destination on the host binds (Istio's egress TLS
// origination tasks). Empty when no gateway routes there yet: nothing reads
// the Secret, and no private key should be copied anywhere for it.
func (r Routing) CredentialNamespaces(s state.Snapshot, dr *state.DestinationRule) []string {
	if len(dr.WorkloadSelector) > 0 {
		return []string{dr.Namespace}
	}
	pattern := r.Hosts.FQDN(dr.Host, dr.Namespace)
	hosts := []string{pattern}
	if strings.HasPrefix(pattern, "*") {
		hosts = hosts[:0]
		for _, h := range s.RoutedHosts() {
			if HostScore(pattern, h) > 0 {
				hosts = append(hosts, h)
			}
		}
	}
	var selectors []map[string]string
	seen := map[string]bool{}
	for _, h := range hosts {
		for _, vs := range s.VirtualServicesRouting(h) {
			for _, g := range vs.Gateways {
				if g == "mesh" || seen[state.GatewayKey(g, vs.Namespace)] {
					continue
				}
				seen[state.GatewayKey(g, vs.Namespace)] = true
				ns, name := GatewayRef(g, vs.Namespace)
				if gw := s.Gateway(ns, name); gw != nil && len(gw.Selector) > 0 {
					selectors = append(selectors, gw.Selector)
				}
			}
		}
	}
	if len(selectors) == 0 {
		return nil
	}
	var out []string
	for _, ns := range s.NamespacesWithGateways() {
		s.ForEachPod(ns, func(p *state.Pod) bool {
			for _, sel := range selectors {
				if p.Sidecar && !p.Finished() && state.SelectorMatches(sel, p.Labels) {
					out = append(out, ns)
					return false
				}
			}
			return true
		})
	}
	return out
}

// MaterialRef names a Secret a review needs.
type MaterialRef struct{ Namespace, Name string }

// MaterialNeeds lists the Secrets (with their "-cacert" companions) the TLS
// settings of the rules reference, and the namespaces whose mesh root applies.
func (r Routing) MaterialNeeds(s state.Snapshot, drs ...*state.DestinationRule) (secrets []MaterialRef, roots []string) {
	seen := map[MaterialRef]bool{}
	verifies := false
	for _, dr := range drs {
		if dr == nil {
			continue
		}
		for _, t := range TLSSettings(dr) {
			if t.TLS.Mode == "SIMPLE" || t.TLS.Mode == "MUTUAL" {
				verifies = true
				roots = append(roots, dr.Namespace)
			}
			if t.TLS.CredentialName == "" {
				continue
			}
			for _, ns := range r.CredentialNamespaces(s, dr) {
				for _, ref := range []MaterialRef{{ns, t.TLS.CredentialName}, {ns, t.TLS.CredentialName + "-cacert"}} {
					if !seen[ref] {
						seen[ref] = true
						secrets = append(secrets, ref)
					}
				}
			}
		}
	}
	if verifies {
		roots = append(roots, r.root())
	}
	return secrets, roots
}
