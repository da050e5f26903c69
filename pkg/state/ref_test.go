package state

import "testing"

// Istio resolves a VirtualService's gateway references with
// pilot/pkg/model/config.go resolveGatewayName; every form it accepts must
// land on the same Gateway here.
func TestGatewayKeyResolvesEveryFormIstioAccepts(t *testing.T) {
	for ref, want := range map[string]string{
		"mesh":                   "mesh",
		"public-gw":              "shop/public-gw",
		"istio-system/public-gw": "istio-system/public-gw",
		"./public-gw":            "shop/public-gw",
		"public-gw.istio-system": "istio-system/public-gw",
		"public-gw.istio-system.svc.cluster.local": "istio-system/public-gw",
	} {
		if got := GatewayKey(ref, "shop"); got != want {
			t.Errorf("GatewayKey(%q, shop) = %q, want %q", ref, got, want)
		}
	}
}
