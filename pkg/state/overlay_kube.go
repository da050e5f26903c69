package state

import "sort"

// WithService returns base after one Service write (svc nil: deleted): the
// Service ns/name and the pods it selects are the new ones; every other
// Service keeps its index. The pods of the new selector are found by one
// pass over the pods of ns, so the cost is one namespace's pods.
//
// The per-namespace aggregates (which pods are servers because a Service
// selects them) are left as they were: the path model reads the Service,
// its pods and their readiness, never those counts.
func WithService(base Snapshot, ns, name string, svc *Service) Snapshot {
	o := svcOverlay{Snapshot: base, ns: ns, name: name, svc: svc}
	if svc != nil && len(svc.Selector) > 0 {
		base.ForEachPod(ns, func(p *Pod) bool {
			if SelectorMatches(svc.Selector, p.Labels) {
				o.pods = append(o.pods, p)
			}
			return true
		})
	}
	return o
}

type svcOverlay struct {
	Snapshot
	ns, name string
	svc      *Service
	pods     []*Pod
}

func (o svcOverlay) written(ns, name string) bool { return ns == o.ns && name == o.name }

func (o svcOverlay) Service(ns, name string) *Service {
	if o.written(ns, name) {
		return o.svc
	}
	return o.Snapshot.Service(ns, name)
}

func (o svcOverlay) Services(ns string) []*Service {
	list := o.Snapshot.Services(ns)
	if ns != o.ns {
		return list
	}
	return replaceNamed(list, o.name, o.svc, func(s *Service) string { return s.Name }, func(ss []*Service) {
		sort.Slice(ss, func(i, j int) bool { return ss[i].Name < ss[j].Name })
	})
}

func (o svcOverlay) ForEachServicePod(ns, name string, fn func(*Pod) bool) {
	if !o.written(ns, name) {
		o.Snapshot.ForEachServicePod(ns, name, fn)
		return
	}
	for _, p := range o.pods {
		if !fn(p) {
			return
		}
	}
}

// ForEachEndpoint: a deleted Service has no endpoints istiod would use (its
// EndpointSlices are garbage collected with it), and a Service given a
// selector has the endpoint-slice controller's, which are its pods.
func (o svcOverlay) ForEachEndpoint(ns, name string, fn func(*EndpointSlice, *Endpoint) bool) {
	if o.written(ns, name) && (o.svc == nil || len(o.svc.Selector) > 0) {
		return
	}
	o.Snapshot.ForEachEndpoint(ns, name, fn)
}

func (o svcOverlay) NamespaceNames() []string { return withName(o.Snapshot.NamespaceNames(), o.ns) }

// WithNamespace returns base after one Namespace write (ns nil: deleted):
// its labels are the new ones. Pods keep their classification: a label
// change enrols or unenrols pods later (sidecars at their next restart) or
// through istio-cni, which the Namespace rules judge themselves.
func WithNamespace(base Snapshot, name string, ns *Namespace) Snapshot {
	return nsOverlay{Snapshot: base, name: name, ns: ns}
}

type nsOverlay struct {
	Snapshot
	name string
	ns   *Namespace
}

func (o nsOverlay) Namespace(name string) *Namespace {
	if name == o.name {
		return o.ns
	}
	return o.Snapshot.Namespace(name)
}
