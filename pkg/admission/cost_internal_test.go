package admission

import (
	"strings"
	"testing"

	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

func hosts(n int) []string {
	h := make([]string, n)
	for i := range h {
		h[i] = "h" + string(rune('a'+i%26))
	}
	return h
}

func ports(n int) map[uint32]*state.PortPolicy {
	p := map[uint32]*state.PortPolicy{}
	for i := 0; i < n; i++ {
		p[uint32(8000+i)] = &state.PortPolicy{Index: i}
	}
	return p
}

func subsets(n, portsEach int) []state.Subset {
	s := make([]state.Subset, n)
	for i := range s {
		if portsEach > 0 {
			s[i].Policy = &state.TrafficPolicy{Ports: ports(portsEach)}
		}
	}
	return s
}

func TestCost(t *testing.T) {
	route := state.HTTPRoute{Matches: []state.HTTPMatch{{}}, Route: []state.Destination{{Host: "a"}, {Host: "b"}}, Mirrors: []state.Destination{{Host: "m"}}}
	for name, c := range map[string]struct {
		change *rules.Change
		want   int
	}{
		"a VirtualService costs its hosts times its routes, matches, destinations and mirrors": {
			&rules.Change{NewVS: &state.VirtualService{Hosts: hosts(3), HTTP: []state.HTTPRoute{route, route}}}, 3 * 2 * 5},
		"tcp and tls routes count with their destinations": {
			&rules.Change{NewVS: &state.VirtualService{Hosts: hosts(2), TCP: [][]state.Destination{{{Host: "a"}}}, TLS: [][]state.Destination{{{Host: "a"}, {Host: "b"}}}}}, 2 * (2 + 3)},
		"gateways count beside the routes each host is judged with": {
			&rules.Change{NewVS: &state.VirtualService{Hosts: hosts(4), Gateways: []string{"g1", "g2"}, HTTP: []state.HTTPRoute{route}}}, 4 * (5 + 2)},
		"a VirtualService without hosts costs its routes": {
			&rules.Change{NewVS: &state.VirtualService{HTTP: []state.HTTPRoute{route}}}, 5},
		"a DestinationRule without subsets or port settings costs 1": {
			&rules.Change{NewDR: &state.DestinationRule{Host: "a"}}, 1},
		"subsets multiply the port settings of the rule and of every subset": {
			&rules.Change{NewDR: &state.DestinationRule{Policy: &state.TrafficPolicy{Ports: ports(2)}, Subsets: subsets(3, 1)}}, (1 + 3) * (1 + 2 + 3)},
		"the issue's 500 subsets with 40 port settings each cost ten million": {
			&rules.Change{NewDR: &state.DestinationRule{Subsets: subsets(500, 40)}}, 501 * 20001},
		"a PeerAuthentication costs one plus its port modes": {
			&rules.Change{NewPA: &state.PeerAuthentication{PortModes: map[uint32]state.MTLSMode{80: "STRICT", 81: "DISABLE"}}}, 3},
		"a delete costs nothing: the object it removes was admitted": {
			&rules.Change{OldVS: &state.VirtualService{Hosts: hosts(500)}}, 0},
	} {
		t.Run(name, func(t *testing.T) {
			if got := Cost(c.change); got != c.want {
				t.Errorf("cost %d, want %d", got, c.want)
			}
		})
	}
}

func TestCostCap(t *testing.T) {
	for name, c := range map[string]struct {
		change *rules.Change
		limit  int
		want   []string // fragments of the denial; none: within the cap
	}{
		"a VirtualService at the cap is reviewed": {
			&rules.Change{NewVS: &state.VirtualService{Hosts: hosts(10), TCP: [][]state.Destination{{{Host: "a"}}}}}, 20, nil},
		"a VirtualService over the cap is denied naming its hosts, routes, cost and cap": {
			&rules.Change{NewVS: &state.VirtualService{Hosts: hosts(10), Gateways: []string{"g"}, TCP: [][]state.Destination{{{Host: "a"}}}}}, 20,
			[]string{"spec.hosts × (spec.http, spec.tcp and spec.tls + spec.gateways): 10 hosts × (2 routes, matches and destinations + 1 gateways) cost 30, over the 20 meshguard reviews in one object (limits.cost in its configuration)", "split the hosts, or the routes, over several VirtualServices"}},
		"a DestinationRule over the cap is denied naming its subsets and port settings": {
			&rules.Change{NewDR: &state.DestinationRule{Subsets: subsets(4, 2)}}, 40,
			[]string{"spec.subsets × portLevelSettings: (1 + 4 subsets) × (1 + 8 port-level settings of the rule and its subsets) cost 45, over the 40", "limits.cost", "fewer subsets or port-level settings"}},
		"a PeerAuthentication over the cap is denied naming its ports": {
			&rules.Change{NewPA: &state.PeerAuthentication{PortModes: map[uint32]state.MTLSMode{80: "STRICT", 81: "DISABLE"}}}, 2,
			[]string{"spec.portLevelMtls: 1 + 2 ports cost 3, over the 2", "limits.cost"}},
	} {
		t.Run(name, func(t *testing.T) {
			got := checkCost(c.limit, c.change)
			if (got == "") != (c.want == nil) {
				t.Fatalf("denial %q", got)
			}
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Errorf("denial %q lacks %q", got, w)
				}
			}
		})
	}
}
