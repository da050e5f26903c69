package trust

import (
	"strings"
	"time"
)

// MeshRootConfigMap and MeshRootKey locate the mesh root Istio publishes in
// every namespace.
const (
	MeshRootConfigMap = "istio-ca-root-cert"
	MeshRootKey       = "root-cert.pem"
)

// Root is a mesh root bundle and where it was read.
type Root struct {
	Certs  []Cert
	Source string // "ConfigMap shop/istio-ca-root-cert"
	// Problem says why the bundle is unusable (empty, does not parse);
	// Certs is empty then.
	Problem string
}

// View is the trust material one review may consult, gathered before the
// rules run (rules do no I/O). It holds summaries only, never key material.
type View struct {
	// Secrets by "namespace/name"; a nil value records a confirmed absence.
	Secrets map[string]*Material
	// Roots by namespace: the istio-ca-root-cert ConfigMap found there.
	Roots map[string]*Root
	// Anchors are configured fleet trust anchors.
	Anchors []Cert
	// FleetHosts are host patterns that count as in-mesh ("*.global").
	FleetHosts []string
	// At is the time validity is judged at.
	At time.Time
	// SecretsUnknown says the Secrets were not available at all (state files
	// exported without any): credential material is then not judged, rather
	// than reported missing.
	SecretsUnknown bool
}

// NewView returns an empty view judging validity at at.
func NewView(at time.Time) *View {
	return &View{Secrets: map[string]*Material{}, Roots: map[string]*Root{}, At: at}
}

// Secret returns the material of Secret ns/name, with the CA of its
// "-cacert" companion when it carries none itself. ok is false when the
// Secret does not exist.
func (v *View) Secret(ns, name string) (m *Material, ok bool) {
	if v == nil {
		return nil, false
	}
	m = v.Secrets[ns+"/"+name]
	if m == nil {
		return nil, false
	}
	if len(m.CA) == 0 {
		if c := v.Secrets[ns+"/"+name+CompanionSuffix]; c != nil && len(c.CA) > 0 {
			merged := *m
			merged.CA = c.CA
			merged.Problems = append(append([]string(nil), m.Problems...), c.Problems...)
			return &merged, true
		}
	}
	return m, true
}

// MeshRoot returns the mesh root for a rule in ns: the ConfigMap in ns, else
// the one in the root namespace.
func (v *View) MeshRoot(ns, rootNS string) *Root {
	if v == nil {
		return nil
	}
	if r := v.Roots[ns]; r != nil {
		return r
	}
	return v.Roots[rootNS]
}

// IsFleetHost reports whether host matches a configured fleet host pattern.
func (v *View) IsFleetHost(host string) bool {
	if v == nil {
		return false
	}
	for _, p := range v.FleetHosts {
		if p == host || (strings.HasPrefix(p, "*") && strings.HasSuffix(host, p[1:])) {
			return true
		}
	}
	return false
}
