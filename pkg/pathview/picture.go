// Package pathview draws the paths the engine computes: every client class
// that reaches a host, through which route, cluster and TLS, to how many
// Ready endpoints, and, across a write, which of those paths it breaks.
// It renders one Picture as a table (text), JSON, a mermaid flowchart or a
// Graphviz DOT digraph. It holds no model of its own: every fact comes from
// pkg/paths.
package pathview

import (
	"fmt"
	"sort"
	"strings"

	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/paths"
)

// Formats a Picture renders to.
const (
	Text    = "text"
	JSON    = "json"
	Mermaid = "mermaid"
	DOT     = "dot"
)

// Verdicts of a path (Row.Verdict).
const (
	// Works: every route of the path reaches Ready endpoints that accept it.
	Works = "works"
	// Fails: some traffic of the path fails (no writes given, or before them).
	Fails = "fails"
	// Broken: the writes break the path: it worked, or failed less, before.
	Broken = "broken"
	// Failing: the path fails after the writes without being broken by them
	// (it failed as much before, or its host was never reached).
	Failing = "failing"
)

// Picture is every path to a host, as the state stands or before and after
// some writes.
type Picture struct {
	// Host is the host asked about (an FQDN).
	Host string
	// Changed: writes were given; Before is the state before them.
	Changed bool
	Before  []paths.Path
	After   []paths.Path
	// newly marks the failures each broken path of After gained, by path key.
	newly map[string]map[string]bool
	// failing are the keys of the paths of After that fail without being broken.
	failing map[string]bool
	// omitted counts the broken paths OfBroken left out.
	omitted int
}

// New is the picture of the paths to host; with changed, before and after
// the writes whose verdict v is (else before and after are the same state).
func New(host string, changed bool, before, after []paths.Path, v paths.Verdict) *Picture {
	p := &Picture{Host: host, Changed: changed, Before: before, After: after}
	p.mark(v)
	return p
}

// OfBroken is the picture of the paths a write breaks, before and after it:
// what a pull-request comment shows for a denied write. It draws the first
// most of them (a mesh-wide change can break hundreds); BrokenCount still
// counts them all.
func OfBroken(title string, v paths.Verdict, most int) *Picture {
	p := &Picture{Host: title, Changed: true}
	drawn := v.Broken[:min(len(v.Broken), most)]
	for _, c := range drawn {
		if c.Before != nil {
			p.Before = append(p.Before, *c.Before)
		}
		p.After = append(p.After, *c.After)
	}
	p.mark(paths.Verdict{Broken: drawn})
	p.omitted = len(v.Broken) - len(drawn)
	return p
}

func (p *Picture) mark(v paths.Verdict) {
	p.newly = map[string]map[string]bool{}
	p.failing = map[string]bool{}
	for _, c := range v.Broken {
		m := map[string]bool{}
		for _, f := range c.New {
			m[f.Key()] = true
		}
		p.newly[c.After.Key()] = m
	}
	for _, c := range v.Failing {
		p.failing[c.After.Key()] = true
	}
}

// BrokenCount is how many paths the writes break.
func (p *Picture) BrokenCount() int { return len(p.newly) + p.omitted }

// Drawn is how many of the broken paths the picture draws.
func (p *Picture) Drawn() int { return len(p.newly) }

// verdict of a path of After (after: true) or Before.
func (p *Picture) verdict(path *paths.Path, after bool) string {
	switch {
	case path.Works():
		return Works
	case !p.Changed || !after:
		return Fails
	case p.newly[path.Key()] != nil:
		return Broken
	}
	return Failing
}

// hopBroken reports whether a hop of a path of After is a failure the
// writes introduced on a path they break.
func (p *Picture) hopBroken(path *paths.Path, h paths.Hop, after bool) bool {
	if !after || h.Works() {
		return false
	}
	if !p.Changed {
		return true // as it stands: every failing hop is broken traffic
	}
	return p.newly[path.Key()][h.Key()]
}

// Row is one destination of one path, as the table and JSON show it.
type Row struct {
	Client    string `json:"client"`
	Gateway   string `json:"gateway,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Workload  string `json:"workload,omitempty"`
	Host      string `json:"host"`
	Port      uint32 `json:"port"`
	// Verdict is the path's (works, fails, broken, failing).
	Verdict string `json:"verdict"`
	// FailShare is the worst failing share of one of the path's routes.
	FailShare int `json:"failShare"`
	// Route is the VirtualService route ("shop/reviews spec.http[0]"), or
	// "default" (no VirtualService: straight to the host).
	Route           string `json:"route"`
	Destination     string `json:"destination"`
	Subset          string `json:"subset,omitempty"`
	Cluster         string `json:"cluster"`
	DestinationRule string `json:"destinationRule,omitempty"`
	// Weight is the percent of the route's traffic sent to the destination.
	Weight int `json:"weight"`
	// Fails is the percent of the route's traffic that fails here, Cause why.
	Fails int    `json:"fails"`
	Cause string `json:"cause,omitempty"`
	// NewlyBroken: this destination's failure is one the writes introduced.
	NewlyBroken bool           `json:"newlyBroken,omitempty"`
	Live        int            `json:"live"`
	Ready       int            `json:"ready"`
	TLSSent     string         `json:"tlsSent"`
	TLSAccepted map[string]int `json:"tlsAccepted,omitempty"`
	// Refusing names the first few Ready endpoints refusing what is sent.
	Refusing []string `json:"refusing,omitempty"`

	// counted: the client has the cluster, so its endpoints were counted.
	counted bool
}

// rows flattens paths into one row per destination; a path without a route
// (a gateway no VirtualService binds the host to) is one row without one.
func (p *Picture) rows(ps []paths.Path, after bool) []Row {
	var out []Row
	for i := range ps {
		path := &ps[i]
		base := Row{Client: path.Client.String(), Gateway: path.Client.Gateway, Namespace: path.Client.Namespace,
			Workload: path.Client.Workload, Host: path.Host, Port: path.Port, Verdict: p.verdict(path, after), FailShare: path.FailShare}
		if len(path.Hops) == 0 {
			r := base
			r.Route, r.Cluster, r.TLSSent = "none", "-", "-"
			out = append(out, r)
			continue
		}
		for _, h := range path.Hops {
			r := base
			r.Route = routeName(h)
			r.Destination = h.Host
			if r.Destination == "" {
				r.Destination = h.Dest.Host
			}
			r.Subset = h.Dest.Subset
			r.Cluster = clusterName(h)
			if h.Rules.Found() {
				r.DestinationRule = h.Rules.Namespace + "/" + ruleNames(h.Rules)
			}
			r.Weight, r.Fails = h.Weight, h.Share
			if !h.Works() {
				r.Cause = h.Cause.String()
			}
			r.NewlyBroken = p.Changed && after && p.hopBroken(path, h, after)
			r.Live, r.Ready, r.counted = h.Live, h.Ready, !noCluster(h)
			r.TLSSent = tlsSent(h)
			r.TLSAccepted = h.Accepts
			r.Refusing = h.Pods
			out = append(out, r)
		}
	}
	return out
}

// routeName names the route a hop belongs to: its VirtualService and rule.
func routeName(h paths.Hop) string {
	if h.VS == nil {
		return "default"
	}
	rule := h.Field
	if i := strings.Index(rule, ".route["); i >= 0 {
		rule = rule[:i]
	}
	return h.VS.Namespace + "/" + h.VS.Name + " " + rule
}

// clusterName is the Envoy cluster istiod builds for a hop
// (outbound|port|subset|host), or why there is none.
func clusterName(h paths.Hop) string {
	switch h.Cause {
	case paths.NoHost:
		return "none: " + h.Dest.Host + " resolves to nothing"
	case paths.NoPort:
		return fmt.Sprintf("none: %s has no port %d", h.Host, h.Port)
	case paths.NotImported:
		return fmt.Sprintf("BlackHoleCluster: Sidecar %s/%s does not import %s", h.Sidecar.Namespace, h.Sidecar.Name, h.Host)
	}
	name := fmt.Sprintf("outbound|%d|%s|%s", h.Port, h.Dest.Subset, h.Host)
	if h.Cause == paths.NoSubset {
		name += " (subset undefined)"
	}
	return name
}

// ruleNames are the names of the merged rules a lookup found.
func ruleNames(rs mesh.RuleSet) string {
	names := make([]string, len(rs.Rules))
	for i, dr := range rs.Rules {
		names[i] = dr.Name
	}
	return strings.Join(names, ",")
}

// noCluster reports whether the client has no cluster for the hop (no
// host, no port, no subset): nothing is sent, no endpoint is counted.
func noCluster(h paths.Hop) bool {
	return h.Cause == paths.NoHost || h.Cause == paths.NoPort || h.Cause == paths.NoSubset || h.Cause == paths.NotImported
}

// tlsSent is what the client sends and the setting that decides it.
func tlsSent(h paths.Hop) string {
	switch {
	case noCluster(h):
		return "-"
	case h.TLS == nil:
		return "auto mTLS"
	case h.TLS.Rule != nil:
		return h.TLS.Setting.TLS.Mode + " (DestinationRule " + h.TLS.Rule.Namespace + "/" + h.TLS.Rule.Name + ")"
	case h.TLS.Inferred != nil:
		return h.TLS.Setting.TLS.Mode + " (inferred from PeerAuthentication " + h.TLS.Inferred.Namespace + "/" + h.TLS.Inferred.Name + ")"
	}
	return h.TLS.Setting.TLS.Mode
}

// accepted renders what the Ready endpoints accept: "STRICT×2 plaintext×1".
func accepted(m map[string]int) string {
	if len(m) == 0 {
		return "-"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		keys[i] = fmt.Sprintf("%s×%d", k, m[k])
	}
	return strings.Join(keys, " ")
}
