package state

import (
	"slices"
	"sort"
	"strings"
	"time"

	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
)

// Sidecar is the lean form of a networking.istio.io Sidecar: which hosts the
// proxies it applies to import, and what they do with the others.
type Sidecar struct {
	Namespace string
	Name      string
	Created   time.Time
	// Selector is its workloadSelector's labels; HasSelector says whether
	// it has a workloadSelector at all (istiod tests the field, not its
	// labels: an empty selector picks every workload of the namespace).
	Selector    map[string]string
	HasSelector bool
	// Egress are its egress listeners (none: istiod's default, one
	// listener importing "*/*").
	Egress []SidecarEgress
	// Outbound is outboundTrafficPolicy.mode (REGISTRY_ONLY or ALLOW_ANY);
	// empty when the Sidecar leaves it to the mesh config.
	Outbound string
}

// SidecarEgress is one egress listener of a Sidecar.
type SidecarEgress struct {
	// Port is the listener's port number (0: none, every port); Protocol
	// its protocol, upper case.
	Port     uint32
	Protocol string
	// Hosts are its "namespace/dnsName" imports, as written.
	Hosts []string
}

// Outbound traffic policy modes.
const (
	RegistryOnly = "REGISTRY_ONLY"
	AllowAny     = "ALLOW_ANY"
)

// FromSidecarSpec builds the lean Sidecar.
func FromSidecarSpec(meta ObjectRef, spec *networkingv1alpha3.Sidecar) *Sidecar {
	sc := &Sidecar{Namespace: meta.Namespace, Name: meta.Name, Created: meta.Created}
	if ws := spec.GetWorkloadSelector(); ws != nil {
		sc.HasSelector = true
		sc.Selector = ws.GetLabels()
	}
	for _, e := range spec.GetEgress() {
		sc.Egress = append(sc.Egress, SidecarEgress{Port: e.GetPort().GetNumber(), Protocol: strings.ToUpper(e.GetPort().GetProtocol()),
			Hosts: e.GetHosts()})
	}
	if p := spec.GetOutboundTrafficPolicy(); p != nil {
		sc.Outbound = p.GetMode().String()
	}
	return sc
}

// SortSidecars orders one namespace's Sidecars as istiod tries them
// (pilot/pkg/model/push_context.go, initSidecarScopes): those with a
// workloadSelector first, then the others, each oldest first (ties: by name).
func SortSidecars(list []*Sidecar) {
	slices.SortStableFunc(list, func(a, b *Sidecar) int {
		if a.HasSelector != b.HasSelector {
			if a.HasSelector {
				return -1
			}
			return 1
		}
		if !a.Created.Equal(b.Created) {
			if a.Created.Before(b.Created) {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
}

// SidecarsOf lists the Sidecars of ns in all (sorted by namespace and
// name), in the order istiod tries them (SortSidecars).
func SidecarsOf(all []*Sidecar, ns string) []*Sidecar {
	i := sort.Search(len(all), func(i int) bool { return all[i].Namespace >= ns })
	j := i
	for j < len(all) && all[j].Namespace == ns {
		j++
	}
	out := slices.Clone(all[i:j])
	SortSidecars(out)
	return out
}

func sortByNamespaceName(list []*Sidecar) {
	sort.Slice(list, func(i, j int) bool {
		if list[i].Namespace != list[j].Namespace {
			return list[i].Namespace < list[j].Namespace
		}
		return list[i].Name < list[j].Name
	})
}

// SetSidecar adds or replaces a Sidecar.
func (s *Store) SetSidecar(sc *Sidecar) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sidecars = withSidecar(s.sidecars, sc.Namespace, sc.Name, sc)
}

// DeleteSidecar removes a Sidecar.
func (s *Store) DeleteSidecar(ns, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sidecars = withSidecar(s.sidecars, ns, name, nil)
}

// withSidecar returns a new list: list without ns/name, plus sc if not nil.
func withSidecar(list []*Sidecar, ns, name string, sc *Sidecar) []*Sidecar {
	out := make([]*Sidecar, 0, len(list)+1)
	for _, o := range list {
		if o.Namespace != ns || o.Name != name {
			out = append(out, o)
		}
	}
	if sc != nil {
		out = append(out, sc)
		sortByNamespaceName(out)
	}
	return out
}

func (v storeView) Sidecars() []*Sidecar { return v.s.sidecars }

// WithSidecar returns base after one Sidecar write (sc nil: deleted); the
// list is rebuilt, one pass over the Sidecars (configuration, not pods).
func WithSidecar(base Snapshot, ns, name string, sc *Sidecar) Snapshot {
	return scOverlay{Snapshot: base, ns: ns, list: withSidecar(base.Sidecars(), ns, name, sc)}
}

type scOverlay struct {
	Snapshot
	ns   string
	list []*Sidecar
}

func (o scOverlay) Sidecars() []*Sidecar { return o.list }

func (o scOverlay) NamespaceNames() []string { return withName(o.Snapshot.NamespaceNames(), o.ns) }
