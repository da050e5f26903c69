// Package namespace holds the rules that judge Namespace writes (MG801,
// MG802): labels that take a namespace's pods out of the mesh while a
// STRICT PeerAuthentication depends on them being in it. A Namespace's
// DELETE is not reviewed: the chart does not register it, since a denied
// delete would leave a namespace half torn down by the cascade.
package namespace

import (
	"fmt"
	"slices"
	"strings"

	"istio.io/api/label"

	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// All returns the Namespace rules.
func All() []rules.Rule { return []rules.Rule{sidecarsAtRestart{}, ambientNow{}} }

type nsRule struct{}

func (nsRule) Kind() string { return rules.KindNamespace }

// examples is how many pods a message names.
const examples = 3

// sidecarsAtRestart (MG801) warns when a Namespace UPDATE ends sidecar
// injection (istio-injection=enabled or a served istio.io/rev removed, or
// istio-injection=disabled set) while a STRICT PeerAuthentication depends
// on its pods carrying a sidecar. It warns, never denies: injection happens
// when a pod is created, so the running pods keep their sidecars and no
// path changes now (the before/after diff of the write is empty); the pods
// come back without one at their next restart, a write meshguard does not
// review. MG108 is the same warning from the policy's side; MG101 in the
// drift audit reports the outsiders once they exist.
type sidecarsAtRestart struct{ nsRule }

func (sidecarsAtRestart) ID() string { return "MG801" }

func (sidecarsAtRestart) Reads() []state.Kind {
	return []state.Kind{state.InjectorKind, state.PeerAuthenticationKind, state.PodKind}
}

func (r sidecarsAtRestart) Check(in *rules.Input) []rules.Finding {
	old, nu := namespaces(in)
	if in.Phase != rules.After || old == nil || nu == nil || !mesh.SidecarInjection(in.Prior, old) || mesh.SidecarInjection(in.State, nu) {
		return nil
	}
	var pods []*state.Pod
	in.State.ForEachPod(nu.Name, func(p *state.Pod) bool {
		if p.Sidecar && !p.Finished() && !mesh.IsIstioComponent(p.Labels) &&
			(p.Labels["sidecar.istio.io/inject"] != "true" || nu.Labels["istio-injection"] == "disabled") {
			pods = append(pods, p)
		}
		return true
	})
	strict := strictDepending(in, nu.Name, pods)
	if len(pods) == 0 || strict == "" {
		return nil
	}
	return []rules.Finding{{Rule: r.ID(), Action: rules.Warn, Field: "metadata.labels", Key: "injection", Subjects: names(pods),
		Message: fmt.Sprintf("%s start without a sidecar when next restarted (running pods keep theirs: nothing breaks now), under %s — keep injection until the policy is PERMISSIVE",
			podCount(pods, nu.Name), strict)}}
}

// ambientNow (MG802) denies a Namespace UPDATE that removes
// istio.io/dataplane-mode=ambient while STRICT depends on its pods: unlike
// a sidecar, ambient enrolment follows the label at once. istio-cni's node
// agent watches namespaces and, when one stops matching the ambient
// selector, reconciles each of its pods and removes those no longer
// selected from the mesh (cni/pkg/nodeagent/informers.go, reconcileNamespace
// and reconcilePod: RemovePodFromMesh). Those pods then send plaintext, which
// meshed servers enforcing STRICT reject: MG101's cause, now. It denies when
// the pods become accidental outsiders (the label removed) and mesh-wide
// STRICT, or their own namespace's STRICT over servers still in the mesh
// there, rejects them; it warns when they are opted out on purpose
// (istio.io/dataplane-mode=none, as MG102 does) or when only their own
// ports were STRICT (a server outside the mesh takes plaintext).
type ambientNow struct{ nsRule }

func (ambientNow) ID() string { return "MG802" }

func (ambientNow) Reads() []state.Kind {
	return []state.Kind{state.NamespaceKind, state.PeerAuthenticationKind, state.PodKind}
}

func (r ambientNow) Check(in *rules.Input) []rules.Finding {
	mode := label.IoIstioDataplaneMode.Name
	name := in.Change.Ref.Name
	nu, prior := in.State.Namespace(name), in.Prior.Namespace(name)
	if in.Change.New == nil || nu == nil || nu.Labels[mode] == "ambient" {
		return nil
	}
	// The pods istio-cni takes out: enrolled (redirected, or by the label
	// the namespace had before the write) and no longer selected, neither
	// by the namespace nor by a label of their own. Pods still redirected
	// under a namespace that had already lost the label make the finding
	// hold before the write (pre-existing).
	var leaving []*state.Pod
	meshedLeft := 0
	in.State.ForEachPod(name, func(p *state.Pod) bool {
		enrolled := p.AmbientRedirected || mesh.Ambient(p, prior)
		switch {
		case p.Finished() || mesh.IsIstioComponent(p.Labels):
		case p.Sidecar || enrolled && p.Labels[mode] == "ambient":
			meshedLeft++
		case enrolled && !p.DataplaneNone:
			leaving = append(leaving, p)
		}
		return true
	})
	if len(leaving) == 0 {
		return nil
	}
	action, why := rules.Deny, ""
	meshEff := in.Policies.MeshMode(in.State)
	nsEff := in.Policies.NamespaceMode(in.State, name)
	switch {
	case meshEff.Mode == state.ModeStrict:
		why = "mesh-wide STRICT (" + source(meshEff) + ") rejects the plaintext they then send to meshed servers"
	case nsEff.Mode == state.ModeStrict && meshedLeft > 0:
		why = fmt.Sprintf("STRICT (%s) rejects the plaintext they then send to the %d pods still in the mesh there", source(nsEff), meshedLeft)
	default:
		action, why = rules.Warn, strictDepending(in, name, leaving)
		if why == "" {
			return nil
		}
		why = "their own ports are under " + why + ", which then enforces nothing"
	}
	fix := "enroll them another way first (sidecars, or the pods' own istio.io/dataplane-mode=ambient label), or make the policy PERMISSIVE first"
	if nu.Labels[mode] == "none" {
		action, fix = rules.Warn, "kept out on purpose (istio.io/dataplane-mode=none): make sure they never call STRICT servers"
	}
	return []rules.Finding{{Rule: r.ID(), Action: action, Field: "metadata.labels", Key: "ambient", Subjects: names(leaving),
		Message: fmt.Sprintf("without %s=ambient istio-cni takes %s out of the mesh at once, and %s — %s",
			mode, podCount(leaving, name), why, fix)}}
}

// namespaces are the Namespace before and after the write (nil: none).
func namespaces(in *rules.Input) (old, nu *state.Namespace) {
	if in.Change.Old != nil {
		old = in.Change.Old.NS
	}
	if in.Change.New != nil {
		nu = in.Change.New.NS
	}
	return old, nu
}

// strictDepending names the STRICT that depends on pods of ns being in the
// mesh ("" when none): the mesh-wide policy (their calls), the namespace's
// or a workload policy over one of their ports (their servers).
func strictDepending(in *rules.Input, ns string, pods []*state.Pod) string {
	var parts []string
	if e := in.Policies.MeshMode(in.State); e.Mode == state.ModeStrict {
		parts = append(parts, "mesh-wide STRICT ("+source(e)+"), which rejects their plaintext calls")
	}
	for _, p := range pods {
		if p.Router {
			continue
		}
		e := in.Policies.WorkloadMode(in.State, ns, p.Labels, 0)
		if e.Mode != state.ModeStrict {
			for _, port := range p.Ports {
				if w := in.Policies.WorkloadMode(in.State, ns, p.Labels, uint32(port.Port)); w.Mode == state.ModeStrict {
					e = w
					break
				}
			}
		}
		if e.Mode == state.ModeStrict && e.Source != nil && e.Source.Namespace == ns {
			parts = append(parts, "STRICT for their own ports ("+source(e)+")")
			break
		}
	}
	return strings.Join(parts, "; ")
}

func source(e mesh.Effective) string {
	if e.Source == nil {
		return "Istio's default"
	}
	return "PeerAuthentication " + e.Source.Namespace + "/" + e.Source.Name
}

// podCount says how many pods, naming the first few (by name) with their
// owners.
func podCount(pods []*state.Pod, ns string) string {
	slices.SortFunc(pods, func(a, b *state.Pod) int { return strings.Compare(a.Name, b.Name) })
	var named []string
	for _, p := range pods[:min(len(pods), examples)] {
		n := ns + "/" + p.Name
		if p.OwnerKind != "" {
			n += " (" + p.OwnerKind + " " + p.OwnerName + ")"
		}
		named = append(named, n)
	}
	text := strings.Join(named, ", ")
	if len(pods) > examples {
		text += fmt.Sprintf(" and %d more", len(pods)-examples)
	}
	noun := "pods"
	if len(pods) == 1 {
		noun = "pod"
	}
	return fmt.Sprintf("%d %s of %s (%s)", len(pods), noun, ns, text)
}

func names(pods []*state.Pod) []string {
	out := make([]string, len(pods))
	for i, p := range pods {
		out[i] = p.Namespace + "/" + p.Name
	}
	return out
}
