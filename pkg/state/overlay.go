package state

import (
	"slices"
	"sort"
)

// WithPeerAuthentication returns base as it would be after one
// PeerAuthentication write: pa replaces the object named ns/name, or removes it
// when pa is nil. Only the policy list of that namespace is rebuilt, so the
// cost is proportional to the policies of one namespace.
func WithPeerAuthentication(base Snapshot, ns, name string, pa *PeerAuthentication) Snapshot {
	old := base.PeerAuthentications(ns)
	list := make([]*PeerAuthentication, 0, len(old)+1)
	for _, p := range old {
		if p.Name != name {
			list = append(list, p)
		}
	}
	if pa != nil {
		list = append(list, pa)
		SortPolicies(list)
	}
	return paOverlay{Snapshot: base, ns: ns, list: list}
}

type paOverlay struct {
	Snapshot
	ns   string
	list []*PeerAuthentication
}

func (o paOverlay) PeerAuthentications(ns string) []*PeerAuthentication {
	if ns == o.ns {
		return o.list
	}
	return o.Snapshot.PeerAuthentications(ns)
}

func (o paOverlay) NamespaceNames() []string {
	names := o.Snapshot.NamespaceNames()
	i := sort.SearchStrings(names, o.ns)
	if i < len(names) && names[i] == o.ns {
		return names
	}
	// A policy in a namespace the state knows nothing else about.
	return slices.Insert(slices.Clone(names), i, o.ns)
}
