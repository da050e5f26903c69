package trust_test

import (
	"testing"

	"github.com/meshguard/meshguard/pkg/trust"
	"github.com/meshguard/meshguard/pkg/trust/trusttest"
)

// FuzzMaterial: PEM bundles and Secret data of any shape are summarised or
// reported as problems, never a panic.
func FuzzMaterial(f *testing.F) {
	root := trusttest.NewRoot("fuzz root")
	cert, key := root.ValidLeaf("fuzz leaf")
	f.Add(root.PEM, cert, key)
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), []byte{}, []byte("-----BEGIN EC PRIVATE KEY-----\n\n-----END EC PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, ca, crt, k []byte) {
		_, _ = trust.ParseBundle(ca)
		m := trust.Inspect("Secret fuzz/fuzz", map[string][]byte{"ca.crt": ca, "tls.crt": crt, "tls.key": k})
		if m == nil {
			t.Fatal("no summary")
		}
	})
}
