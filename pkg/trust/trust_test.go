package trust_test

import (
	"strings"
	"testing"
	"time"

	"github.com/meshguard/meshguard/pkg/trust"
	"github.com/meshguard/meshguard/pkg/trust/trusttest"
)

func TestParseBundleNamesTheBrokenBlock(t *testing.T) {
	root := trusttest.NewRoot("mesh root")
	cases := []struct {
		name, pem, want string
	}{
		{"garbage after a good block", string(root.PEM) + "not pem", "block 2: not PEM"},
		{"a key where a certificate belongs", string(root.PEM) + "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n", "block 2: EC PRIVATE KEY where a CERTIFICATE was expected"},
		{"a certificate that does not parse", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "block 1: x509"},
		{"nothing at all", "", "no certificate"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := trust.ParseBundle([]byte(c.pem))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want %q", err, c.want)
			}
		})
	}
}

func TestBundlesChainsAndKeys(t *testing.T) {
	root, regional := trusttest.NewRoot("mesh root"), trusttest.NewRoot("regional CA eu-west")
	inter := root.Intermediate("mesh intermediate")
	leafPEM, keyPEM := inter.ValidLeaf("client")
	_, otherKey := inter.ValidLeaf("someone else")

	bundle, err := trust.ParseBundle(append(append([]byte{}, regional.PEM...), root.PEM...))
	if err != nil {
		t.Fatal(err)
	}
	rootCert, _ := trust.ParseBundle(root.PEM)
	if !trust.Contains(bundle, rootCert[0]) {
		t.Error("a bundle with the root must contain it")
	}
	regionalOnly, _ := trust.ParseBundle(regional.PEM)
	if trust.Contains(regionalOnly, rootCert[0]) {
		t.Error("the regional bundle does not contain the mesh root")
	}

	chain, _ := trust.ParseBundle(append(append([]byte{}, leafPEM...), inter.PEM...))
	if err := trust.Verify(chain, rootCert, time.Now()); err != nil {
		t.Errorf("leaf + intermediate chains to the root: %v", err)
	}
	if err := trust.Verify(chain, regionalOnly, time.Now()); err == nil {
		t.Error("the chain does not verify against the regional CA")
	}

	m := trust.Inspect("Secret shop/client", map[string][]byte{"tls.crt": leafPEM, "tls.key": keyPEM, "ca.crt": root.PEM})
	if !m.HasKey || !m.KeyMatches || len(m.CA) != 1 || len(m.Problems) != 0 {
		t.Errorf("matching pair: %+v", m)
	}
	m = trust.Inspect("Secret shop/client", map[string][]byte{"cert": leafPEM, "key": otherKey, "cacert": root.PEM})
	if !m.HasKey || m.KeyMatches {
		t.Errorf("Istio's layout with a foreign key must not match: %+v", m)
	}
}

func TestValidity(t *testing.T) {
	ca := trusttest.NewRoot("root")
	now := time.Now()
	expired, _ := ca.Leaf("old", now.AddDate(-1, 0, 0), now.AddDate(0, 0, -1))
	future, _ := ca.Leaf("future", now.AddDate(0, 0, 1), now.AddDate(1, 0, 0))
	soon, _ := ca.Leaf("soon", now.Add(-time.Hour), now.AddDate(0, 0, 10))
	parse := func(p []byte) trust.Cert { c, _ := trust.ParseBundle(p); return c[0] }
	if !strings.Contains(trust.Validity(parse(expired), now), "expired") {
		t.Error("expired")
	}
	if !strings.Contains(trust.Validity(parse(future), now), "not valid before") {
		t.Error("not yet valid")
	}
	if trust.Validity(parse(soon), now) != "" || !trust.ExpiresSoon(parse(soon), now) {
		t.Error("valid but expiring soon")
	}
}
