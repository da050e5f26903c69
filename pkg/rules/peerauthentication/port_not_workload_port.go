package peerauthentication

import (
	"fmt"
	"slices"
	"sort"
	"strconv"

	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// portNotWorkloadPort (MG103) denies portLevelMtls keys that are no port of
// the selected workloads. Istio matches them against the port the pod
// receives on, so a Service port there silently applies to nothing.
type portNotWorkloadPort struct{ paRule }

func (portNotWorkloadPort) ID() string { return "MG103" }

func (portNotWorkloadPort) Reads() []state.Kind {
	return []state.Kind{state.PodKind, state.ServiceKind}
}

func (r portNotWorkloadPort) Check(in *rules.Input) []rules.Finding {
	pa := in.PA
	if pa == nil || len(pa.PortModes) == 0 || !pa.HasSelector() {
		return nil
	}
	pods := selectedPods(in.State, pa)
	if len(pods) == 0 {
		return nil // nothing to judge against; MG104 says so
	}
	known := map[uint32]bool{}
	for _, p := range pods {
		for _, cp := range p.Ports {
			known[uint32(cp.Port)] = true
		}
	}
	// Ports a Service targets on these pods are workload ports even when the
	// pod spec does not declare them.
	type servicePort struct {
		svc    string
		target string
	}
	servicePorts := map[uint32]servicePort{}
	for _, svc := range in.State.Services(pa.Namespace) {
		if !selectsAny(svc, pods) {
			continue
		}
		for _, sp := range svc.Ports {
			target := resolveTarget(sp, pods)
			if target != 0 {
				known[uint32(target)] = true
			}
			servicePorts[uint32(sp.Port)] = servicePort{svc.Name, targetText(sp, target)}
		}
	}
	if len(known) == 0 {
		return nil // the pods declare no port and no Service targets them: cannot judge
	}
	keys := make([]uint32, 0, len(pa.PortModes))
	for k := range pa.PortModes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out []rules.Finding
	for _, k := range keys {
		if known[k] {
			continue
		}
		msg := fmt.Sprintf("port %d is no container port of the %s selected (%s); Istio keys portLevelMtls by workload port, so this setting applies to nothing",
			k, plural(len(pods), "pod", "pods"), portList(known))
		if sp, ok := servicePorts[k]; ok {
			msg += fmt.Sprintf(" — %d is a port of Service %s, which targets %s: use %s as the key", k, sp.svc, sp.target, sp.target)
		} else {
			msg += " — use one of the pods' container ports as the key"
		}
		out = append(out, rules.Finding{
			Rule: r.ID(), Action: rules.Deny, Field: fmt.Sprintf("spec.portLevelMtls[%d]", k),
			Key: strconv.Itoa(int(k)), Message: msg,
		})
	}
	return out
}

func selectsAny(svc *state.Service, pods []*state.Pod) bool {
	if len(svc.Selector) == 0 {
		return false
	}
	for _, p := range pods {
		if state.SelectorMatches(svc.Selector, p.Labels) {
			return true
		}
	}
	return false
}

// resolveTarget returns the numeric target port, resolving a named target
// port against the pods' container ports; 0 when it cannot be resolved.
func resolveTarget(sp state.ServicePort, pods []*state.Pod) int32 {
	if sp.TargetPortName == "" {
		return sp.TargetPort
	}
	for _, p := range pods {
		for _, cp := range p.Ports {
			if cp.Name == sp.TargetPortName {
				return cp.Port
			}
		}
	}
	return 0
}

func targetText(sp state.ServicePort, target int32) string {
	if target != 0 {
		return strconv.Itoa(int(target))
	}
	return "the container port named " + sp.TargetPortName
}

func portList(known map[uint32]bool) string {
	ports := make([]int, 0, len(known))
	for p := range known {
		ports = append(ports, int(p))
	}
	sort.Ints(ports)
	s := ""
	for i, p := range ports {
		if i > 0 {
			s += ", "
		}
		s += strconv.Itoa(p)
	}
	return "ports " + s
}
