package state_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/meshguard/meshguard/pkg/state"
)

func TestHTTPRouteTranslatesIntoTheOneRouteForm(t *testing.T) {
	tests := map[string]struct {
		spec     string
		hosts    []string
		gateways []string
		dests    [][]state.Destination
		terminal []bool
	}{
		"a GAMMA route routes the sidecars calling its Service, by short name in its namespace": {
			spec:     `{"parentRefs":[{"group":"","kind":"Service","name":"reviews","port":9080}],"rules":[{"backendRefs":[{"name":"reviews-v1","port":9080}]}]}`,
			hosts:    []string{"reviews"},
			gateways: []string{"mesh"},
			dests:    [][]state.Destination{{{Host: "reviews-v1", Port: 9080, Weight: 1}}},
			terminal: []bool{false},
		},
		"a Gateway parentRef binds the Gateway with the route's hostnames; weight 0 is dropped": {
			spec: `{"parentRefs":[{"name":"gateway","namespace":"istio-ingress"}],"hostnames":["a.example.com"],` +
				`"rules":[{"backendRefs":[{"name":"v1","port":80,"weight":0},{"name":"v2","port":80,"weight":3}]}]}`,
			hosts:    []string{"a.example.com"},
			gateways: []string{"istio-ingress/gateway"},
			dests:    [][]state.Destination{{{Host: "v2", Port: 80, Weight: 3, Index: 1}}},
			terminal: []bool{false},
		},
		"without hostnames a Gateway route takes any host": {
			spec:     `{"parentRefs":[{"name":"gateway"}],"rules":[{"backendRefs":[{"name":"v1","port":80}]}]}`,
			hosts:    []string{"*"},
			gateways: []string{"shop/gateway"},
			dests:    [][]state.Destination{{{Host: "v1", Port: 80, Weight: 1}}},
			terminal: []bool{false},
		},
		"cross-namespace, portless and non-Service backends are marked; redirects and empty rules send nowhere": {
			spec: `{"parentRefs":[{"group":"","kind":"Service","name":"reviews"}],"rules":[` +
				`{"backendRefs":[{"name":"billing","namespace":"legacy","port":8080},{"name":"reviews"},{"group":"example.com","kind":"Bucket","name":"b"}]},` +
				`{"filters":[{"type":"RequestRedirect"}]},{}]}`,
			hosts:    []string{"reviews"},
			gateways: []string{"mesh"},
			dests: [][]state.Destination{{
				{Host: state.InClusterDomain("billing", "legacy"), Port: 8080, Weight: 1, GrantFrom: "shop"},
				{Host: "reviews", Weight: 1, Index: 1, Invalid: "a backendRef to a Service needs a port"},
				{Host: "b", Weight: 1, Index: 2, Invalid: "a backendRef of kind Bucket.example.com is not a Service"},
			}, nil, nil},
			terminal: []bool{false, true, true},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var spec state.HTTPRouteSpec
			if err := json.Unmarshal([]byte(tc.spec), &spec); err != nil {
				t.Fatal(err)
			}
			vs := state.FromHTTPRouteSpec(state.ObjectRef{Namespace: "shop", Name: "r"}, &spec)
			if vs.Kind != state.KindHTTPRoute || !reflect.DeepEqual(vs.Hosts, tc.hosts) || !reflect.DeepEqual(vs.Gateways, tc.gateways) {
				t.Errorf("kind %q hosts %v gateways %v, want %v %v", vs.Kind, vs.Hosts, vs.Gateways, tc.hosts, tc.gateways)
			}
			if len(vs.HTTP) != len(tc.dests) {
				t.Fatalf("%d rules, want %d", len(vs.HTTP), len(tc.dests))
			}
			for i, r := range vs.HTTP {
				if !reflect.DeepEqual(r.Route, tc.dests[i]) || r.Terminal != tc.terminal[i] {
					t.Errorf("rule %d: %+v terminal %v, want %+v terminal %v", i, r.Route, r.Terminal, tc.dests[i], tc.terminal[i])
				}
			}
		})
	}
}

func TestHTTPRouteParentSections(t *testing.T) {
	var spec state.HTTPRouteSpec
	if err := json.Unmarshal([]byte(`{"parentRefs":[`+
		`{"name":"gw","sectionName":"http"},{"name":"gw","port":8080},`+
		`{"name":"open"},{"name":"open","sectionName":"x"},`+
		`{"group":"","kind":"Service","name":"ratings","port":9090},`+
		`{"group":"","kind":"Service","name":"billing","namespace":"legacy"}]}`), &spec); err != nil {
		t.Fatal(err)
	}
	vs := state.FromHTTPRouteSpec(state.ObjectRef{Namespace: "shop", Name: "r"}, &spec)
	for _, tc := range []struct {
		key, listener string
		port          uint32
		want          bool
	}{
		{"shop/gw", "http", 80, true},
		{"shop/gw", "https", 443, false},
		{"shop/gw", "admin", 8080, true},
		{"shop/open", "any", 1, true},
		{"ratings", "", 9090, true},
		{"ratings", "", 9080, false},
		{state.InClusterDomain("billing", "legacy"), "", 8080, true},
	} {
		if got := vs.Attaches(tc.key, tc.listener, tc.port); got != tc.want {
			t.Errorf("Attaches(%s, %s, %d) = %v, want %v", tc.key, tc.listener, tc.port, got, tc.want)
		}
	}
}
