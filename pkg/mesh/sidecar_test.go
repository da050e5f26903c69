package mesh

import (
	"testing"
	"time"

	"github.com/meshguard/meshguard/pkg/state"
)

func TestSidecarImport(t *testing.T) {
	egress := func(hosts ...string) *state.Sidecar {
		return &state.Sidecar{Egress: []state.SidecarEgress{{Hosts: hosts}}}
	}
	const api = "api.backend.svc.cluster.local"
	cases := map[string]struct {
		sc     *state.Sidecar
		client string
		port   uint32
		want   Import
	}{
		"no egress imports */*":                         {&state.Sidecar{}, "frontend", 80, Imported},
		"./* imports the proxy's own namespace only":    {egress("./*"), "backend", 80, Imported},
		"./* does not import another namespace":         {egress("./*"), "frontend", 80, NotImported},
		"ns/* imports that namespace":                   {egress("backend/*"), "frontend", 80, Imported},
		"*/host imports the host from any namespace":    {egress("*/" + api), "frontend", 80, Imported},
		"a wildcard dnsName imports the hosts under it": {egress("backend/*.backend.svc.cluster.local"), "frontend", 80, Imported},
		"a wildcard of another suffix does not":         {egress("backend/*.example.com"), "frontend", 80, NotImported},
		"~/* imports nothing":                           {egress("~/*"), "backend", 80, NotImported},
		"an exclusion beats an import":                  {egress("*/*", "~backend/"+api), "frontend", 80, NotImported},
		"a host not of the form ns/dnsName is skipped":  {egress(api), "frontend", 80, NotImported},
		"a port-bound listener imports on its port":     {&state.Sidecar{Egress: []state.SidecarEgress{{Port: 80, Protocol: "HTTP", Hosts: []string{"backend/*"}}}}, "frontend", 80, Imported},
		"a port-bound listener elsewhere is not judged": {&state.Sidecar{Egress: []state.SidecarEgress{{Port: 9999, Protocol: "HTTP", Hosts: []string{"backend/*"}}}}, "frontend", 80, ImportUnjudged},
		"an HTTP_PROXY listener imports on every port":  {&state.Sidecar{Egress: []state.SidecarEgress{{Port: 9999, Protocol: "HTTP_PROXY", Hosts: []string{"backend/*"}}}}, "frontend", 80, Imported},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := SidecarImport(c.sc, c.client, "backend", api, c.port); got != c.want {
				t.Errorf("SidecarImport = %d, want %d", got, c.want)
			}
		})
	}
}

func TestSidecarForFollowsGetSidecarScope(t *testing.T) {
	store := state.NewStore(nil)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, sc := range []*state.Sidecar{
		{Namespace: "istio-system", Name: "default", Created: t0},
		{Namespace: "shop", Name: "default", Created: t0},
		{Namespace: "shop", Name: "young", Created: t0.Add(time.Hour), HasSelector: true, Selector: map[string]string{"app": "web"}},
		{Namespace: "shop", Name: "old", Created: t0.Add(time.Minute), HasSelector: true, Selector: map[string]string{"app": "web"}},
	} {
		store.SetSidecar(sc)
	}
	r := Routing{}
	_ = store.View(func(s state.Snapshot) error {
		for name, c := range map[string]struct {
			ns     string
			labels map[string]string
			want   string
		}{
			"the oldest matching selector Sidecar":       {"shop", map[string]string{"app": "web", "v": "1"}, "shop/old"},
			"the namespace's without selector otherwise": {"shop", map[string]string{"app": "batch"}, "shop/default"},
			"the root namespace's for other namespaces":  {"legacy", nil, "istio-system/default"},
		} {
			got := r.SidecarFor(s, c.ns, c.labels)
			if got == nil || got.Namespace+"/"+got.Name != c.want {
				t.Errorf("%s: SidecarFor = %v, want %s", name, got, c.want)
			}
		}
		return nil
	})
	if got := Outbound(&state.Sidecar{}, ""); got != state.AllowAny {
		t.Errorf("Outbound without any mode = %s, want ALLOW_ANY (Istio's default)", got)
	}
}
