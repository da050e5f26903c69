package pathview

import (
	"fmt"
	"strings"

	"github.com/meshguard/meshguard/pkg/paths"
)

// The graph both diagram formats draw: clients → requested host →
// clusters (subsets) → endpoints. Nodes and edges are shared by the paths
// that pass through them; an edge is drawn once per distinct label and
// state.
type graph struct {
	sections []section
}

type section struct {
	name  string // "before", "after"; empty: a single state
	nodes []node
	edges []edge
	ids   map[string]string // identity → node id
	seen  map[string]bool   // edge identity
}

type node struct {
	id, label, kind string // kind: client, host, cluster, endpoints
}

// Edge states.
const (
	edgeOK      = ""
	edgeBroken  = "broken"  // broken by the writes (or failing, as the state stands)
	edgeFailing = "failing" // failing, not broken by the writes
)

type edge struct {
	from, to, label, state string
}

func (s *section) node(identity, kind, label string) string {
	if id, ok := s.ids[identity]; ok {
		return id
	}
	prefix := map[string]string{"client": "c", "host": "h", "cluster": "k", "endpoints": "e"}[kind]
	if s.name != "" {
		prefix = s.name[:1] + "_" + prefix
	}
	id := fmt.Sprintf("%s%d", prefix, len(s.nodes)+1)
	s.ids[identity] = id
	s.nodes = append(s.nodes, node{id: id, label: label, kind: kind})
	return id
}

func (s *section) edge(from, to, label, st string) {
	k := from + "|" + to + "|" + label + "|" + st
	if s.seen[k] {
		return
	}
	s.seen[k] = true
	s.edges = append(s.edges, edge{from: from, to: to, label: label, state: st})
}

// graph builds the diagram of the picture: with writes, a section before
// and one after them.
func (p *Picture) graph() graph {
	if !p.Changed {
		return graph{sections: []section{p.section("", p.After, true)}}
	}
	return graph{sections: []section{p.section("before", p.Before, false), p.section("after", p.After, true)}}
}

func (p *Picture) section(name string, ps []paths.Path, after bool) section {
	s := section{name: name, ids: map[string]string{}, seen: map[string]bool{}}
	for i := range ps {
		path := &ps[i]
		st := edgeOK
		switch p.verdict(path, after) {
		case Broken:
			st = edgeBroken
		case Fails, Failing:
			st = edgeFailing
			if !p.Changed {
				st = edgeBroken
			}
		}
		c := s.node("client|"+path.Client.String(), "client", path.Client.String())
		h := s.node("host|"+path.Host, "host", path.Host)
		label := fmt.Sprintf("port %d", path.Port)
		if path.FailShare > 0 {
			label += fmt.Sprintf(", %d%% fails", path.FailShare)
		}
		if !path.Routed {
			label += ", no route"
		}
		s.edge(c, h, label, st)
		for _, hop := range path.Hops {
			hst := edgeOK
			switch {
			case hop.Works():
			case p.hopBroken(path, hop, after):
				hst = edgeBroken
			default:
				hst = edgeFailing
			}
			route := routeName(hop)
			cl := s.node("cluster|"+clusterName(hop), "cluster", clusterName(hop))
			// A cluster the client lacks fails on the way to it; one
			// without Ready endpoints, or whose endpoints refuse what is
			// sent, fails on the way from it.
			toCluster := fmt.Sprintf("%s, %d%%", route, hop.Weight)
			if noCluster(hop) {
				toCluster += ", " + hop.Cause.String()
				s.edge(h, cl, toCluster, hst)
				continue
			}
			s.edge(h, cl, toCluster, edgeOK)
			ep := s.node("endpoints|"+clusterName(hop)+"|"+endpointsLabel(hop), "endpoints", endpointsLabel(hop))
			toEndpoints := tlsSent(hop) + " → " + accepted(hop.Accepts)
			if !hop.Works() {
				toEndpoints += ", " + hop.Cause.String()
			}
			s.edge(cl, ep, toEndpoints, hst)
		}
	}
	return s
}

func endpointsLabel(h paths.Hop) string {
	l := fmt.Sprintf("%d/%d Ready", h.Ready, h.Live)
	if h.Bad > 0 {
		l += fmt.Sprintf(", %d refuse: %s", h.Bad, strings.Join(h.Pods, ", "))
	}
	return l
}
