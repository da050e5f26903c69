package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/meshguard/meshguard/pkg/paths"
	"github.com/meshguard/meshguard/pkg/state"
)

// PathFailure is one failing destination of one path, as a path rule sees it.
type PathFailure struct {
	Path    *paths.Path
	Failure paths.Failure
	// Broken: the write broke it (else it failed before, or its host was
	// never reached: a fresh install).
	Broken bool
	// Held: the path failed as much before the write.
	Held bool
}

// Failures returns the failures of cause c on the paths the write touches:
// the new failures of broken paths, and every failure of paths failing
// without being broken.
func (in *Input) Failures(c paths.Cause) []PathFailure {
	if in.Traffic == nil {
		return nil
	}
	// Counted first: a write can fail thousands of paths, and a failure is
	// large.
	n := 0
	for _, ch := range in.Traffic.Broken {
		for _, f := range ch.New {
			if f.Cause == c {
				n++
			}
		}
	}
	for _, ch := range in.Traffic.Failing {
		for _, f := range ch.After.Failures {
			if f.Cause == c {
				n++
			}
		}
	}
	if n == 0 {
		return nil
	}
	out := make([]PathFailure, 0, n)
	for _, ch := range in.Traffic.Broken {
		for _, f := range ch.New {
			if f.Cause == c {
				out = append(out, PathFailure{Path: ch.After, Failure: f, Broken: true})
			}
		}
	}
	for _, ch := range in.Traffic.Failing {
		// The path failed as much before (perhaps another way: a subset
		// undefined then, unready now), or its host was never reached.
		held := ch.Before != nil && !ch.Before.Works()
		for _, f := range ch.After.Failures {
			if f.Cause == c {
				out = append(out, PathFailure{Path: ch.After, Failure: f, Held: held})
			}
		}
	}
	return out
}

// Group collects path failures under a key (a field of the written object),
// in first-seen order.
type Group struct {
	Key      string
	Failures []PathFailure
}

// GroupFailures groups fs by key(f); failures whose key is "" are dropped.
func GroupFailures(fs []PathFailure, key func(PathFailure) string) []Group {
	var out []Group
	idx := map[string]int{}
	// Two passes, each group's list sized once: a group can hold thousands.
	of := make([]int, len(fs))
	var sizes []int
	for j, f := range fs {
		k := key(f)
		if k == "" {
			of[j] = -1
			continue
		}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, Group{Key: k})
			sizes = append(sizes, 0)
		}
		of[j] = i
		sizes[i]++
	}
	for i := range out {
		out[i].Failures = make([]PathFailure, 0, sizes[i])
	}
	for j, f := range fs {
		if i := of[j]; i >= 0 {
			out[i].Failures = append(out[i].Failures, f)
		}
	}
	return out
}

// Broken reports whether the write broke any failure of the group.
func (g Group) Broken() bool {
	for _, f := range g.Failures {
		if f.Broken {
			return true
		}
	}
	return false
}

// Held reports whether every failure of the group was there before.
func (g Group) Held() bool {
	for _, f := range g.Failures {
		if !f.Held {
			return false
		}
	}
	return true
}

// Clients names the client classes of the group, sorted, once each.
func (g Group) Clients() []string {
	// By class first: a group can hold thousands of failures of one class.
	seen := map[paths.Client]bool{}
	var out []string
	for _, f := range g.Failures {
		if c := f.Path.Client; !seen[c] {
			seen[c] = true
			out = append(out, c.String())
		}
	}
	slices.Sort(out)
	return slices.Compact(out) // two classes may read alike
}

// RouteText names, for a message, the routes of the group's failures: each
// VirtualService once ("the host's default route" for none), the first three
// and how many more; plural reports whether it names more than one.
func (g Group) RouteText() (text string, plural bool) {
	var names []string
	for _, pf := range g.Failures {
		name := "the host's default route"
		if vs := pf.Failure.VS; vs != nil {
			kind := "VirtualService"
			if vs.Kind != "" {
				kind = vs.Kind
			}
			name = kind + " " + vs.Namespace + "/" + vs.Name
		}
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	plural = len(names) > 1
	if len(names) > 3 {
		names = append(names[:3], fmt.Sprintf("%d more", len(names)-3))
	}
	return strings.Join(names, ", "), plural
}

// GatewayFinding words a group of NoGateway failures a gateway write
// leaves (grouped under "field|..."): why is what the gateway lacks, fix
// what to do first.
func (g Group) GatewayFinding(id, why, fix string) Finding {
	action, held := g.Verdict()
	p := g.Failures[0].Path
	fld, _, _ := strings.Cut(g.Key, "|")
	routes, plural := g.RouteText()
	verb := "gets"
	if plural {
		verb = "get"
	}
	msg := fmt.Sprintf("%s, %s bound to it %s no requests for %s on port %d from %s: they get 404, or the connection is refused — %s",
		why, routes, verb, p.Host, p.Port, g.ClientText(), fix)
	if action == Warn && !held {
		msg = "nothing reached that host before, so nothing breaks yet: " + msg
	}
	return Finding{Rule: id, Action: action, Preexisting: held, Field: fld, Key: g.Key, Subjects: g.Clients(), Message: msg,
		Missing: g.routeRefs()}
}

// routeRefs lists the routes a gateway write's denial rests on, for the
// webhook to re-read before it denies: the cache may still show a route
// deleted or moved a moment before the Gateway's write.
func (g Group) routeRefs() []state.ObjectRef {
	var out []state.ObjectRef
	for _, pf := range g.Failures {
		vs := pf.Failure.VS
		if vs == nil {
			continue
		}
		ref := state.ObjectRef{Group: state.GroupNetworking, Kind: "VirtualService", Namespace: vs.Namespace, Name: vs.Name}
		if state.GatewayRouteKind(vs.Kind) {
			ref = state.ObjectRef{Group: state.GroupGatewayAPI, Kind: vs.Kind, Namespace: vs.Namespace, Name: vs.Name}
		}
		if !slices.Contains(out, ref) {
			out = append(out, ref)
		}
	}
	return out
}

// MaxShare is the largest failing share among the group's failures.
func (g Group) MaxShare() int {
	m := 0
	for _, f := range g.Failures {
		m = max(m, f.Failure.Share)
	}
	return m
}

// Verdict returns the action and pre-existing flag of a group: a write that
// broke it denies; one that failed before is pre-existing; one whose host
// was never reached warns (nothing worked there yet).
func (g Group) Verdict() (Action, bool) {
	switch {
	case g.Broken():
		return Deny, false
	case g.Held():
		return Deny, true
	default:
		return Warn, false
	}
}

// ClientText names the group's client classes for a message: the sidecars
// by namespace, with the class of all other namespaces folded in ("sidecars
// in shop and in every other namespace without a route or rule of its own
// for the host"), then the gateways; up to three names of each.
func (g Group) ClientText() string {
	var nss, gateways []string
	other := false
	for _, f := range g.Failures {
		switch c := f.Path.Client; {
		case c.Gateway != "":
			if n := c.String(); !slices.Contains(gateways, n) {
				gateways = append(gateways, n)
			}
		case c.Namespace == paths.Other:
			other = true
		case c.Workload != "":
			if n := c.Namespace + " selected by " + c.Workload; !slices.Contains(nss, n) {
				nss = append(nss, n)
			}
		case !slices.Contains(nss, c.Namespace):
			nss = append(nss, c.Namespace)
		}
	}
	slices.Sort(nss)
	slices.Sort(gateways)
	var parts []string
	switch {
	case len(nss) > 0 && other:
		parts = append(parts, "sidecars in "+upTo3(nss)+" and in every other namespace without a route or rule of its own for the host")
	case len(nss) > 0:
		parts = append(parts, "sidecars in "+upTo3(nss))
	case other:
		parts = append(parts, "sidecars in every namespace without a route or rule of its own for the host")
	}
	if len(gateways) > 0 {
		parts = append(parts, upTo3(gateways))
	}
	return strings.Join(parts, " and ")
}

// upTo3 lists up to three names, and says how many more there are.
func upTo3(names []string) string {
	if len(names) <= 3 {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:3], ", "), len(names)-3)
}

// RemoteEndpoints turns a denial for "no Ready endpoint" into a warning
// when the mesh spans clusters meshguard cannot read (mesh.OtherClusters):
// another cluster may serve the host. It returns the action and the clause
// the message ends with ("" in a single-cluster mesh).
func RemoteEndpoints(in *Input, action Action) (Action, string) {
	why := in.Routing.OtherClusters(in.State, in.Config != nil && in.Config.MultiCluster)
	if why == "" {
		return action, ""
	}
	return Warn, " (not denied: this mesh spans other clusters, by " + why + ", whose Ready endpoints for the host meshguard cannot see)"
}

// PolicyModeField is the field of a written PeerAuthentication its mode
// findings point at: the top-level mode, or portLevelMtls when only ports
// set one.
func (in *Input) PolicyModeField() string {
	pa := in.PA
	if pa == nil {
		pa = in.Change.OldPA
	}
	if pa != nil && pa.Mode == "UNSET" && len(pa.PortModes) > 0 {
		return "spec.portLevelMtls"
	}
	return "spec.mtls.mode"
}
