package judge

import (
	"fmt"
	"slices"
	"time"

	networking "istio.io/api/networking/v1alpha3"
	"istio.io/istio/pilot/test/xds"
	"istio.io/istio/pkg/config"
)

// Step is the verdict on one reviewed object of the change.
type Step struct {
	Operation string `json:"operation"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Broken are the paths that worked before the write and fail after it,
	// or whose failing share grew, each with its state before.
	Broken []Breakage `json:"broken"`
	// Failing counts paths failing both before and after (pre-existing).
	Failing int `json:"failing"`
	// Paths counts the paths judged after the write.
	Paths int `json:"paths"`
	// Unjudged lists what the oracle cannot model in this state.
	Unjudged []string `json:"unjudged,omitempty"`
	// All holds every path after the write (only when asked for).
	All []Path `json:"all,omitempty"`
}

// Breakage is one path broken by a write.
type Breakage struct {
	Before Path `json:"before"`
	After  Path `json:"after"`
}

// Input is what `meshguard check` reads: the cluster state and the proposed
// objects, judged in order, each against the state the previous one left.
type Input struct {
	State  []Object
	Change []Object
	Delete bool
	// AllPaths keeps every path of each step's result in Step.All.
	AllPaths bool
}

// Judge asks istiod about every reviewed object of the change in turn.
func Judge(in Input) ([]Step, error) {
	cur := append([]Object(nil), in.State...)
	ord := &order{base: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}
	created := map[string]time.Time{}
	for _, o := range cur {
		created[o.Key()] = ord.next()
	}
	// Other kinds in the change are part of the state before any write.
	var writes []Object
	for _, o := range in.Change {
		if Reviewed(o) {
			writes = append(writes, o)
		} else if !in.Delete {
			cur = upsert(cur, o)
			if _, ok := created[o.Key()]; !ok {
				created[o.Key()] = ord.next()
			}
		}
	}
	var steps []Step
	before, err := evaluate(cur, created)
	if err != nil {
		return nil, err
	}
	for _, o := range writes {
		step := Step{Kind: o.GetKind(), Namespace: o.GetNamespace(), Name: o.GetName()}
		if step.Namespace == "" {
			step.Namespace = "default"
		}
		_, exists := find(cur, o.Key())
		switch {
		case in.Delete && !exists:
			return nil, fmt.Errorf("%s: --delete of %s, which the state does not hold", o.Source, o.Key())
		case in.Delete:
			step.Operation = "DELETE"
			cur = remove(cur, o.Key())
		case exists:
			step.Operation = "UPDATE"
			cur = upsert(cur, o)
		default:
			step.Operation = "CREATE"
			created[o.Key()] = ord.next()
			cur = upsert(cur, o)
		}
		after, err := evaluate(cur, created)
		if err != nil {
			return nil, err
		}
		step.Broken, step.Failing = diff(before.paths, after.paths, istioGateway(o))
		step.Paths, step.Unjudged = len(after.paths), after.unjudged
		if why := kubeUnjudged(o); why != "" {
			step.Unjudged = append(slices.Clip(step.Unjudged), why)
		}
		for _, u := range before.unjudged {
			if !slices.Contains(step.Unjudged, u) {
				step.Unjudged = append(step.Unjudged, u) // a policy a DELETE removes
			}
		}
		if in.AllPaths {
			for _, k := range sortedKeys(after.paths) {
				step.All = append(step.All, after.paths[k])
			}
		}
		steps = append(steps, step)
		before = after
	}
	return steps, nil
}

type evaluation struct {
	paths    map[string]Path
	unjudged []string
}

// Evaluate computes the paths of one state.
func Evaluate(objs []Object) (map[string]Path, []string, error) {
	ord := &order{base: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}
	created := map[string]time.Time{}
	for _, o := range objs {
		created[o.Key()] = ord.next()
	}
	e, err := evaluate(objs, created)
	if err != nil {
		return nil, nil, err
	}
	return e.paths, e.unjudged, nil
}

func evaluate(objs []Object, created map[string]time.Time) (*evaluation, error) {
	w, err := BuildWorld(objs, created)
	if err != nil {
		return nil, err
	}
	e := &evaluation{paths: map[string]Path{}, unjudged: w.Unjudged}
	err = withIstiod(w, func(s *xds.FakeDiscoveryServer) {
		for _, p := range paths(w, s) {
			e.paths[p.Key()] = p
		}
	})
	return e, err
}

// diff lists the paths broken between two states: working before and
// failing after, or failing a larger share after; and new paths that fail
// towards a host some client reached before (a gateway route to a subset its
// proxies lack: that host's failing share grows). A path that is gone after
// (its VirtualService deleted, its gateway unbound) was removed on purpose;
// a new failing path to a host nobody reached before is a fresh install.
// istioGateway reports whether o is an Istio Gateway: its write changes
// which virtual hosts gateway proxies get.
func istioGateway(o Object) bool {
	return o.GroupVersionKind().Group == "networking.istio.io" && o.GetKind() == "Gateway"
}

// diff compares the paths of two states. A gateway path that worked and is
// gone after a Gateway write broke: the gateway proxies lost the virtual
// host its bound routes had (no server accepts the host on that port any
// more, or the Gateway or the selector that gave it the server is gone), so
// those requests get 404 or a refused connection. The gateway pods of one
// namespace count as one caller (meshguard's class: the pods behind the
// gateway's Service), so a selector moved from old to new gateway pods of
// that namespace keeps the host served (on the new pods' listener port,
// which follows their Service's targetPort, so ports are not compared). After other writes a vanished path
// is not broken (deleting a route is what its author meant).
func diff(before, after map[string]Path, gatewayWrite bool) (broken []Breakage, failing int) {
	if gatewayWrite {
		served := map[string]bool{}
		for _, a := range after {
			if a.ClientKind == Gateway {
				served[a.ClientNamespace+" "+a.Host] = true
			}
		}
		for _, k := range sortedKeys(before) {
			if b := before[k]; b.ClientKind == Gateway && b.Works() {
				if _, ok := after[k]; !ok && !served[b.ClientNamespace+" "+b.Host] {
					gone := Path{ClientKind: Gateway, ClientNamespace: b.ClientNamespace, Client: b.Client, Host: b.Host, Port: b.Port,
						FailShare: 100, Causes: []string{CauseNoRoute}, Why: []string{"the gateway proxy has no virtual host for the host on this port any more"}}
					broken = append(broken, Breakage{Before: b, After: gone})
				}
			}
		}
	}
	working := map[string]bool{}
	for _, b := range before {
		if b.Works() {
			for _, h := range b.Destinations {
				working[h] = true
			}
		}
	}
	for _, k := range sortedKeys(after) {
		a := after[k]
		b, ok := before[k]
		if a.Works() {
			continue
		}
		if !ok {
			if b, moved := portMoved(before, a); moved && !b.Works() && a.FailShare <= b.FailShare && !routeFailsMore(b, a) {
				failing++ // the same call, failing as much on the host's old port
				continue
			}
			if slices.ContainsFunc(a.Destinations, func(h string) bool { return working[h] }) {
				broken = append(broken, Breakage{Before: Path{Host: a.Host, Port: a.Port}, After: a})
			}
			continue
		}
		if b.Works() || a.FailShare > b.FailShare || routeFailsMore(b, a) {
			broken = append(broken, Breakage{Before: b, After: a})
		} else {
			failing++
		}
	}
	return broken, failing
}

func find(objs []Object, key string) (int, bool) {
	for i, o := range objs {
		if o.Key() == key {
			return i, true
		}
	}
	return -1, false
}

func upsert(objs []Object, o Object) []Object {
	if i, ok := find(objs, o.Key()); ok {
		out := append([]Object(nil), objs...)
		out[i] = o
		return out
	}
	return append(append([]Object(nil), objs...), o)
}

func remove(objs []Object, key string) []Object {
	var out []Object
	for _, o := range objs {
		if o.Key() != key {
			out = append(out, o)
		}
	}
	return out
}

func gatewaySelector(spec config.Spec) map[string]string {
	if g, ok := spec.(*networking.Gateway); ok {
		return g.GetSelector()
	}
	return nil
}

// routeFailsMore reports whether a route of the path fails a larger share
// after the write than the same route (by name and match) before, or than
// the worst route before for a route that is new.
func routeFailsMore(b, a Path) bool {
	for k, share := range a.Routes {
		prior, ok := b.Routes[k]
		if !ok {
			prior = b.FailShare
		}
		if share > prior {
			return true
		}
	}
	return false
}
