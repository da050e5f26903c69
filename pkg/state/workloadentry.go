package state

import (
	"istio.io/api/label"
	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
)

// WorkloadEntryKind: a VM or other workload outside Kubernetes, an endpoint of
// the Services whose selector matches its labels in its namespace (istiod's
// Kubernetes registry selects WorkloadEntries as it selects pods).
var WorkloadEntryKind = Kind{Group: GroupNetworking, Kind: "WorkloadEntry", Resource: "workloadentries", Versions: networkingVersions, Namespaced: true, Access: Watched}

// WorkloadEntry is the lean form of a WorkloadEntry.
type WorkloadEntry struct {
	Namespace, Name string
	Labels          map[string]string
	// Ports maps Service port names to the entry's own ports; a port not
	// named here is the Service's target port.
	Ports map[string]uint32
	// Meshed: a proxy on the workload terminates Istio mTLS, as istiod
	// decides it (pilot/pkg/serviceregistry/serviceentry/conversion.go
	// getTLSModeFromWorkloadEntry): the security.istio.io/tlsMode label if
	// set, else "istio" when the entry names a service account.
	Meshed bool
	// Healthy: istiod sends it traffic (conversion.go isHealthy): always,
	// unless health checks are enabled on it
	// (proxy.istio.io/health-checks-enabled) and its Healthy condition is
	// not True.
	Healthy bool
}

// healthChecksAnnotation turns on WorkloadEntry health checking.
const healthChecksAnnotation = "proxy.istio.io/health-checks-enabled"

// FromWorkloadEntrySpec builds the lean entry from its metadata, spec and
// its Healthy condition ("" when it has none).
func FromWorkloadEntrySpec(meta ObjectRef, annotations map[string]string, spec *networkingv1alpha3.WorkloadEntry, healthy string) *WorkloadEntry {
	we := &WorkloadEntry{Namespace: meta.Namespace, Name: meta.Name, Labels: spec.GetLabels(), Ports: spec.GetPorts()}
	tls, set := spec.GetLabels()[label.SecurityTlsMode.Name]
	we.Meshed = tls == "istio" || !set && spec.GetServiceAccount() != ""
	we.Healthy = annotations[healthChecksAnnotation] != "true" || healthy == "True"
	return we
}

// SetWorkloadEntry adds or replaces a WorkloadEntry.
func (s *Store) SetWorkloadEntry(we *WorkloadEntry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.index(we.Namespace)
	if n.workloadEntries == nil {
		n.workloadEntries = map[string]*WorkloadEntry{}
	}
	n.workloadEntries[we.Name] = we
}

// DeleteWorkloadEntry removes a WorkloadEntry.
func (s *Store) DeleteWorkloadEntry(ns, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.nss[ns]; n != nil {
		delete(n.workloadEntries, name)
		s.gc(ns, n)
	}
}

func (v storeView) ForEachWorkloadEntry(ns string, fn func(*WorkloadEntry) bool) {
	if n := v.s.nss[ns]; n != nil {
		for _, we := range n.workloadEntries {
			if !fn(we) {
				return
			}
		}
	}
}
