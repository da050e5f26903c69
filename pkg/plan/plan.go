package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/meshguard/meshguard/pkg/check"
	"github.com/meshguard/meshguard/pkg/config"
	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// Policy is a PeerAuthentication the plan proposes (namespace-wide or mesh-wide).
type Policy struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Mode      string `json:"mode"`
	// Stage is the plan stage that proposes it (0 baseline, 1, 3 or 4).
	Stage int `json:"stage"`
}

// NamespaceStrict is stage 1: a namespace already fully covered goes STRICT.
type NamespaceStrict struct {
	Namespace     string  `json:"namespace"`
	MeshedServers int     `json:"meshedServers"`
	Policy        *Policy `json:"policy"`
}

// Injection is stage 2: the workloads of one namespace to inject or enroll.
type Injection struct {
	Namespace string   `json:"namespace"`
	Pods      int      `json:"pods"`
	Owners    []Owner  `json:"owners"`
	Commands  []string `json:"commands"`
}

// Holdout is stage 3: a namespace kept PERMISSIVE by a policy of its own.
type Holdout struct {
	Namespace string `json:"namespace"`
	Reason    string `json:"reason"`
	// Commands record the decision where every face of meshguard sees it:
	// the namespace's pods become deliberate outsiders.
	Commands []string `json:"commands"`
	Policy   *Policy  `json:"policy,omitempty"`
}

// MeshStrict is stage 4.
type MeshStrict struct {
	// Ready: no accidental outsider is left anywhere; the policy is proposed.
	Ready bool `json:"ready"`
	// Already: the mesh-wide mode is STRICT today.
	Already  bool     `json:"already"`
	Blocking []string `json:"blocking"`
	Policy   *Policy  `json:"policy,omitempty"`
}

// Plan is `meshguard plan strict`.
type Plan struct {
	// Baseline (stage 0) makes mesh-wide PERMISSIVE explicit while the
	// migration runs, when the mesh is not STRICT yet and stage 4 is not ready.
	Baseline        *Policy           `json:"baseline,omitempty"`
	NamespaceStrict []NamespaceStrict `json:"namespaceStrict"`
	Inject          []Injection       `json:"inject"`
	Holdouts        []Holdout         `json:"holdouts"`
	Mesh            MeshStrict        `json:"meshStrict"`
	// Skipped lists proposals the engine would deny on this state (and so
	// are left out); it stays empty unless the plan's model and the rules
	// disagree.
	Skipped []string `json:"skipped,omitempty"`
}

// Strict computes the staged STRICT migration for the state the session
// holds, and verifies each proposed policy against the engine in order
// (applying the ones admitted to the session, as `kubectl apply` would): the
// YAML it prints is exactly what `meshguard check` admits on that state.
func Strict(sess *check.Session, cfg *config.Config, holdouts []string) Plan {
	var cov Coverage
	_ = sess.Store().View(func(s state.Snapshot) error { cov = Compute(s, cfg); return nil })
	p := Plan{NamespaceStrict: []NamespaceStrict{}, Inject: []Injection{}, Holdouts: []Holdout{}, Mesh: MeshStrict{Blocking: []string{}}}
	root := cfg.RootNamespace
	for _, ns := range cov.Namespaces {
		held, reason := slices.Contains(holdouts, ns.Name), "held out (--holdout)"
		if !held && ns.Accidental > 0 {
			if bare := unrestartable(ns.UnmeshedOwners); len(bare) > 0 {
				held, reason = true, "pods without a controller to restart: "+strings.Join(bare, ", ")
			}
		}
		switch {
		case held:
			p.Holdouts = append(p.Holdouts, holdout(ns, reason, root))
		case ns.Accidental > 0:
			p.Inject = append(p.Inject, injection(ns))
		case ns.Name != root && ns.MeshedServers > 0 && ns.Mode != string(state.ModeStrict):
			p.NamespaceStrict = append(p.NamespaceStrict, NamespaceStrict{Namespace: ns.Name, MeshedServers: ns.MeshedServers,
				Policy: &Policy{Namespace: ns.Name, Name: policyName(ns.Policy), Mode: string(state.ModeStrict), Stage: 1}})
		}
	}
	meshName := policyName(cov.Mesh.Policy)
	p.Mesh.Already = cov.Mesh.Mode == string(state.ModeStrict)
	p.Mesh.Blocking = cov.Mesh.BlockingNamespaces
	p.Mesh.Ready = cov.Mesh.StrictSafe
	if p.Mesh.Ready || p.Mesh.Already {
		p.Mesh.Policy = &Policy{Namespace: root, Name: meshName, Mode: string(state.ModeStrict), Stage: 4}
	} else {
		p.Baseline = &Policy{Namespace: root, Name: meshName, Mode: string(state.ModePermissive), Stage: 0}
	}
	p.verify(sess)
	return p
}

// Policies lists the proposed policies in the order they are applied.
func (p Plan) Policies() []*Policy {
	var out []*Policy
	if p.Baseline != nil {
		out = append(out, p.Baseline)
	}
	for _, n := range p.NamespaceStrict {
		out = append(out, n.Policy)
	}
	for _, h := range p.Holdouts {
		if h.Policy != nil {
			out = append(out, h.Policy)
		}
	}
	if p.Mesh.Policy != nil {
		out = append(out, p.Mesh.Policy)
	}
	return out
}

// verify judges every proposal in order and drops those the engine denies.
func (p *Plan) verify(sess *check.Session) {
	drop := map[*Policy]bool{}
	for _, pol := range p.Policies() {
		obj := pol.Object()
		change := sess.Change(obj, false)
		if v := sess.Judge(change); v.Denied() {
			drop[pol] = true
			var ids []string
			for _, r := range v.Results {
				if r.Action == rules.Deny {
					ids = append(ids, r.Rule)
				}
			}
			p.Skipped = append(p.Skipped, fmt.Sprintf("PeerAuthentication %s/%s %s (denied by %s)", pol.Namespace, pol.Name, pol.Mode, strings.Join(ids, ", ")))
			continue
		}
		sess.Commit(change)
	}
	if drop[p.Baseline] {
		p.Baseline = nil
	}
	p.NamespaceStrict = slices.DeleteFunc(p.NamespaceStrict, func(n NamespaceStrict) bool { return drop[n.Policy] })
	for i := range p.Holdouts {
		if drop[p.Holdouts[i].Policy] {
			p.Holdouts[i].Policy = nil
		}
	}
	if drop[p.Mesh.Policy] {
		p.Mesh.Policy, p.Mesh.Ready = nil, false
	}
}

// Object is the policy as the state decoder would make it.
func (pol *Policy) Object() *state.Object {
	ref := state.ObjectRef{Group: state.GroupSecurity, Kind: rules.KindPeerAuthentication, Namespace: pol.Namespace, Name: pol.Name}
	return &state.Object{Ref: ref, PA: &state.PeerAuthentication{Namespace: pol.Namespace, Name: pol.Name, Mode: state.MTLSMode(pol.Mode)}}
}

func policyName(existing *state.PeerAuthentication) string {
	// Editing the namespace's own policy, never adding a second one (MG105).
	if existing != nil {
		return existing.Name
	}
	return "default"
}

func unrestartable(owners []Owner) []string {
	var out []string
	for _, o := range owners {
		if !o.Restartable() {
			out = append(out, o.Kind+"/"+o.Name)
		}
	}
	return out
}

func injection(ns NamespaceCoverage) Injection {
	in := Injection{Namespace: ns.Name, Pods: ns.Accidental, Owners: ns.UnmeshedOwners}
	if ns.Enrolment == EnrolNone {
		in.Commands = append(in.Commands, "kubectl label namespace "+ns.Name+" istio-injection=enabled")
	}
	for _, o := range ns.UnmeshedOwners {
		in.Commands = append(in.Commands, fmt.Sprintf("kubectl rollout restart %s/%s -n %s", strings.ToLower(o.Kind), o.Name, ns.Name))
	}
	return in
}

func holdout(ns NamespaceCoverage, reason, root string) Holdout {
	h := Holdout{Namespace: ns.Name, Reason: reason, Commands: []string{}}
	if ns.Accidental > 0 {
		// Until this is recorded, the pods count as accidental and block
		// mesh-wide STRICT: a PERMISSIVE policy of their own protects calls
		// into the namespace, not the plaintext calls its pods make.
		h.Commands = append(h.Commands, "kubectl label namespace "+ns.Name+" istio-injection=disabled --overwrite")
	}
	if ns.Name != root && (ns.Policy == nil || ns.Policy.Mode == state.ModeUnset) {
		h.Policy = &Policy{Namespace: ns.Name, Name: policyName(ns.Policy), Mode: string(state.ModePermissive), Stage: 3}
	}
	return h
}

// Simulate applies the plan's commands to a state, as running them would
// (for tests and for showing what a re-plan gives): namespaces labelled,
// restarted owners' pods injected.
func (p Plan) Simulate(sess *check.Session) {
	var pods []*state.Pod
	var nss []*state.Namespace
	_ = sess.Store().View(func(s state.Snapshot) error {
		for _, in := range p.Inject {
			nss = append(nss, withLabel(s.Namespace(in.Namespace), in.Namespace, "istio-injection", "enabled", in.Commands))
			restart := map[[2]string]bool{}
			for _, o := range in.Owners {
				restart[[2]string{o.Kind, o.Name}] = true
			}
			s.ForEachPod(in.Namespace, func(pod *state.Pod) bool {
				if restart[[2]string{pod.OwnerKind, pod.OwnerName}] && !pod.Finished() && !mesh.InMesh(pod, s.Namespace(in.Namespace)) {
					c := *pod
					c.Sidecar = true
					pods = append(pods, &c)
				}
				return true
			})
		}
		for _, h := range p.Holdouts {
			nss = append(nss, withLabel(s.Namespace(h.Namespace), h.Namespace, "istio-injection", "disabled", h.Commands))
		}
		return nil
	})
	for _, ns := range nss {
		if ns != nil {
			sess.Apply(&state.Object{Ref: state.ObjectRef{Kind: "Namespace", Name: ns.Name}, NS: ns})
		}
	}
	for _, pod := range pods {
		sess.Apply(&state.Object{Ref: state.ObjectRef{Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name}, Pod: pod})
	}
}

// withLabel returns ns with key=value when one of commands sets it, else nil.
func withLabel(ns *state.Namespace, name, key, value string, commands []string) *state.Namespace {
	if !slices.ContainsFunc(commands, func(c string) bool { return strings.Contains(c, " "+key+"="+value) }) {
		return nil
	}
	labels := map[string]string{}
	if ns != nil {
		for k, v := range ns.Labels {
			labels[k] = v
		}
	}
	labels[key] = value
	return &state.Namespace{Name: name, Labels: labels}
}
