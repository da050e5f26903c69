// Package plan computes mesh coverage and the staged STRICT migration Istio's
// own guide prescribes (inject every workload, then STRICT per namespace, then
// mesh-wide), from the same store and Istio semantics (pkg/mesh) the rules
// use: `meshguard coverage` and `meshguard plan strict`.
package plan

import (
	"sort"

	"istio.io/api/label"

	"github.com/meshguard/meshguard/pkg/config"
	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/state"
)

// Enrolment values: how a namespace joins the mesh.
const (
	EnrolInjection = "injection" // istio-injection=enabled
	EnrolRevision  = "revision"  // istio.io/rev=<revision>
	EnrolAmbient   = "ambient"   // istio.io/dataplane-mode=ambient
	EnrolNone      = "none"
)

// Owner is a controller whose pods run outside the mesh by accident.
type Owner struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
	Pods int    `json:"pods"`
}

// Restartable reports whether `kubectl rollout restart` recreates the
// owner's pods (and so gives them a proxy once their namespace is enrolled).
func (o Owner) Restartable() bool {
	return o.Kind == "Deployment" || o.Kind == "StatefulSet" || o.Kind == "DaemonSet"
}

// NamespaceCoverage is one row of `meshguard coverage`.
type NamespaceCoverage struct {
	Name      string `json:"name"`
	Enrolment string `json:"enrolment"`
	// Mode is the namespace's effective mode; ModeSource the policy
	// ("ns/name"), "mesh-wide", or "default" (Istio's PERMISSIVE).
	Mode            string `json:"mode"`
	ModeSource      string `json:"modeSource"`
	MeshedServers   int    `json:"meshedServers"`
	UnmeshedServers int    `json:"unmeshedServers"`
	AmbientPods     int    `json:"ambientPods"`
	// UnmeshedOwners own the accidental outsiders: the pods that block
	// STRICT (servers and clients alike), grouped by controller; a bare pod
	// is listed as kind Pod.
	UnmeshedOwners []Owner `json:"unmeshedOwners"`
	// StrictSafe: namespace-wide STRICT would break no caller now.
	StrictSafe bool `json:"strictSafe"`

	// Accidental and Deliberate count the outsiders (see mesh.DeliberateOutsider).
	Accidental int `json:"-"`
	Deliberate int `json:"-"`
	// Policy is the namespace's own namespace-wide PeerAuthentication (nil: none).
	Policy *state.PeerAuthentication `json:"-"`
	// Labels are the namespace's labels (for the plan's commands).
	Labels map[string]string `json:"-"`
}

// MeshCoverage is the mesh line of `meshguard coverage`.
type MeshCoverage struct {
	Mode               string   `json:"mode"`
	StrictSafe         bool     `json:"strictSafe"`
	BlockingNamespaces []string `json:"blockingNamespaces"`
	// Policy is the mesh-wide PeerAuthentication (nil: none).
	Policy *state.PeerAuthentication `json:"-"`
}

// Coverage is the whole report; namespaces are sorted by name.
type Coverage struct {
	Namespaces []NamespaceCoverage `json:"namespaces"`
	Mesh       MeshCoverage        `json:"mesh"`
}

// Compute reports the coverage of every namespace the configuration does not
// exclude (the root namespace included: Istio's addons live there).
func Compute(s state.Snapshot, cfg *config.Config) Coverage {
	pol := mesh.Policies{RootNamespace: cfg.RootNamespace}
	out := Coverage{Namespaces: []NamespaceCoverage{}, Mesh: MeshCoverage{BlockingNamespaces: []string{}}}
	for _, name := range s.NamespaceNames() {
		if cfg.Excluded(name) {
			continue
		}
		ns := s.Namespace(name)
		cov := s.Coverage(name)
		row := NamespaceCoverage{Name: name, Enrolment: enrolment(s, ns), MeshedServers: cov.MeshedServers,
			UnmeshedServers: cov.UnmeshedServers, Accidental: cov.AccidentalOutsiders, Deliberate: cov.DeliberateOutsiders,
			UnmeshedOwners: owners(s.AccidentalOutsiders(name, cov.AccidentalOutsiders)), Policy: pol.NamespacePolicy(s, name)}
		if ns != nil {
			row.Labels = ns.Labels
		}
		eff := pol.NamespaceMode(s, name)
		row.Mode, row.ModeSource = string(eff.Mode), source(eff, pol, s)
		s.ForEachPod(name, func(p *state.Pod) bool {
			if !p.Finished() && mesh.Ambient(p, ns) {
				row.AmbientPods++
			}
			return true
		})
		// STRICT over a namespace without a meshed server (a pod, or a VM's
		// proxy) enforces nothing.
		row.StrictSafe = row.Accidental == 0 || row.MeshedServers == 0 && len(mesh.MeshedEntries(s, name)) == 0
		if row.Accidental > 0 {
			out.Mesh.BlockingNamespaces = append(out.Mesh.BlockingNamespaces, name)
		}
		out.Namespaces = append(out.Namespaces, row)
	}
	out.Mesh.Mode = string(pol.MeshMode(s).Mode)
	out.Mesh.Policy = pol.MeshPolicy(s)
	out.Mesh.StrictSafe = len(out.Mesh.BlockingNamespaces) == 0
	return out
}

// ByBlocking returns the rows sorted by what blocks STRICT most: accidental
// outsiders first, then unmeshed servers, then name.
func (c Coverage) ByBlocking() []NamespaceCoverage {
	rows := append([]NamespaceCoverage(nil), c.Namespaces...)
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.Accidental != b.Accidental {
			return a.Accidental > b.Accidental
		}
		if a.UnmeshedServers != b.UnmeshedServers {
			return a.UnmeshedServers > b.UnmeshedServers
		}
		return a.Name < b.Name
	})
	return rows
}

func enrolment(s state.Snapshot, ns *state.Namespace) string {
	if ns == nil {
		return EnrolNone
	}
	switch {
	case ns.Labels[label.IoIstioDataplaneMode.Name] == "ambient":
		return EnrolAmbient
	case ns.Labels["istio-injection"] == "enabled":
		return EnrolInjection
	case ns.Labels[label.IoIstioRev.Name] != "" && mesh.InjectionEnabled(s, ns):
		// A revision no injector serves gets no sidecars: not enrolled.
		return EnrolRevision
	default:
		return EnrolNone
	}
}

func source(eff mesh.Effective, pol mesh.Policies, s state.Snapshot) string {
	switch {
	case eff.Source == nil:
		return "default"
	case eff.Source == pol.MeshPolicy(s):
		return "mesh-wide"
	default:
		return eff.Source.Namespace + "/" + eff.Source.Name
	}
}

// owners groups pods by controlling owner, largest first.
func owners(pods []*state.Pod) []Owner {
	out := []Owner{}
	index := map[[2]string]int{}
	for _, p := range pods {
		key := [2]string{p.OwnerKind, p.OwnerName}
		if p.OwnerKind == "" {
			key = [2]string{"Pod", p.Name}
		}
		i, ok := index[key]
		if !ok {
			i = len(out)
			index[key] = i
			out = append(out, Owner{Kind: key[0], Name: key[1]})
		}
		out[i].Pods++
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Pods != out[j].Pods {
			return out[i].Pods > out[j].Pods
		}
		return out[i].Kind+"/"+out[i].Name < out[j].Kind+"/"+out[j].Name
	})
	return out
}
