package mesh

import "github.com/meshguard/meshguard/pkg/state"

// CredentialNamespaces are the namespaces whose proxies read a
// DestinationRule's credentialName Secret: with a workload selector, the
// sidecars of the rule's namespace; without, only gateways, which read it in
// their own pods' namespace.
func CredentialNamespaces(s state.Snapshot, dr *state.DestinationRule) []string {
	if len(dr.WorkloadSelector) > 0 {
		return []string{dr.Namespace}
	}
	return s.NamespacesWithGateways()
}

// MaterialRef names a Secret a review needs.
type MaterialRef struct{ Namespace, Name string }

// MaterialNeeds lists the Secrets (with their "-cacert" companions) the TLS
// settings of the rules reference, and the namespaces whose mesh root applies.
func MaterialNeeds(s state.Snapshot, root string, drs ...*state.DestinationRule) (secrets []MaterialRef, roots []string) {
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
			for _, ns := range CredentialNamespaces(s, dr) {
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
		roots = append(roots, root)
	}
	return secrets, roots
}
