package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshguard/meshguard/pkg/config"
	"github.com/meshguard/meshguard/pkg/trust/trusttest"
)

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	anchors := filepath.Join(dir, "anchors.pem")
	_ = os.WriteFile(anchors, trusttest.NewRoot("fleet root").PEM, 0o600)
	write := func(body string) string {
		p := filepath.Join(dir, "config.yaml")
		_ = os.WriteFile(p, []byte(body), 0o600)
		return p
	}
	c, err := config.Load(write("rootNamespace: mesh-root\nrules: {MG101: warn}\nretryLimit: 2\nfleetTrustAnchors: " + anchors + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.RootNamespace != "mesh-root" || c.Rules["MG101"] != config.EnforceWarn || c.RetryLimit != 2 || len(c.Anchors) != 1 {
		t.Errorf("config = %+v", c)
	}
	if !c.Excluded("kube-system") || c.TrustDomain != "cluster.local" {
		t.Error("defaults are kept for keys the file does not set")
	}
	if c, err := config.Load(write("trustDomain: new-td\ntrustDomainAliases: [old-td]\n")); err != nil || c.TrustDomain != "new-td" || len(c.TrustDomainAliases) != 1 {
		t.Errorf("trust domain: %+v, %v", c, err)
	}
	if c, err := config.Load(write("limits: {cost: 500}\n")); err != nil || c.Limits.Cost != 500 || c.Limits.Routes != config.DefaultLimits.Routes {
		t.Errorf("limits.cost read over the defaults: %+v, %v", c, err)
	}
	for body, want := range map[string]string{
		"rootNamesapce: x\n":               "unknown field",
		"rules: {MG101: block}\n":          `"block" is not deny, warn or off`,
		"rules: {M101: warn}\n":            "not a rule ID",
		"retryLimit: -1\n":                 "retryLimit",
		"outboundTrafficPolicy: DENY\n":    "outboundTrafficPolicy: \"DENY\" is neither ALLOW_ANY nor REGISTRY_ONLY",
		"limits: {cost: -1}\n":             "limits.cost: -1 is negative",
		"limits: {memoryBytes: 1048576}\n": "limits.memoryBytes: 1048576 is below limits.requestBytes",
		"fleetTrustAnchors: /nope.pem\n":   "fleetTrustAnchors",
	} {
		if _, err := config.Load(write(body)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", body, err, want)
		}
	}
}
