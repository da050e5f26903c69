package authorizationpolicy

import (
	"fmt"
	"slices"

	"istio.io/api/label"

	"github.com/meshguard/meshguard/pkg/authz"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// A Gateway API Gateway's pods run the RBAC filter on its listeners: the
// policies that attach to them (authz.Applies: a targetRef naming the
// Gateway, or a selector policy of their namespace or the root namespace)
// decide which clients get through. Its callers are the clients outside
// the mesh its listeners serve; they arrive without an Istio certificate,
// so no principal or namespace matches them. A route attached to a
// listener (an HTTPRoute, or a VirtualService binding the Gateway) proves
// that clients call it: a write that cuts them off is denied; a listener
// no route uses yet only warns.

// gatewayTarget is a Gateway API Gateway one side of a policy applies to,
// with one of its live pods.
type gatewayTarget struct {
	ns, name string
	pod      *state.Pod
}

// gatewayTargets lists the Gateway API Gateways whose deployed pods (label
// gateway.networking.k8s.io/gateway-name) either side of the policy
// applies to: the Gateway a targetRef names, or, for a selector policy,
// those of its namespace (every namespace with gateways for a policy of
// the root namespace). Only namespaces running gateway pods are walked.
func gatewayTargets(s state.Snapshot, root string, aps ...*state.AuthorizationPolicy) []gatewayTarget {
	var out []gatewayTarget
	gwNamespaces := s.NamespacesWithGateways()
	visit := func(ns string, ap *state.AuthorizationPolicy) {
		if _, ok := slices.BinarySearch(gwNamespaces, ns); !ok {
			return
		}
		s.ForEachPod(ns, func(p *state.Pod) bool {
			name, ok := p.Labels[label.IoK8sNetworkingGatewayGatewayName.Name]
			if !ok || !p.Router || p.Finished() || !authz.Applies(ap, root, ns, p.Labels) {
				return true
			}
			if !slices.ContainsFunc(out, func(t gatewayTarget) bool { return t.ns == ns && t.name == name }) {
				out = append(out, gatewayTarget{ns: ns, name: name, pod: p})
			}
			return true
		})
	}
	for _, ap := range aps {
		switch {
		case ap == nil:
		case len(ap.TargetRefs) > 0 || ap.Namespace != root:
			visit(ap.Namespace, ap)
		default:
			for _, ns := range gwNamespaces {
				visit(ns, ap)
			}
		}
	}
	return out
}

// judgeGateways judges the clients of each Gateway API Gateway's listeners
// under the policies applying to its pods on this side of the write.
func (r callersCut) judgeGateways(in *rules.Input, root string, written *state.AuthorizationPolicy, td authz.TrustDomain, old, new *state.AuthorizationPolicy) []rules.Finding {
	var out []rules.Finding
	for _, t := range gatewayTargets(in.State, root, old, new) {
		gw := in.State.KubeGateway(t.ns, t.name)
		if gw == nil || waypoint(gw) {
			continue // no listeners to judge; waypoints: see notJudged
		}
		policies := authz.ApplyingTo(in.State, root, t.pod)
		if !authz.Enforcing(policies) {
			continue
		}
		key := t.ns + "/" + t.name
		routes := in.State.VirtualServicesOnGateway(key)
		for _, srv := range gw.Servers {
			if srv.Listener == nil {
				continue
			}
			tcp := srv.Protocol == "TCP" || srv.Protocol == "TLS"
			v := authz.Evaluate(policies, authz.Request{Caller: authz.Caller{}, Port: srv.Port, TCP: tcp}, td)
			if !v.Denied {
				continue
			}
			c := caller{outside: true}
			action := rules.Warn
			if i := slices.IndexFunc(routes, func(vs *state.VirtualService) bool { return vs.Attaches(key, srv.Listener.Name, srv.Port) }); i >= 0 {
				action = rules.Deny
				c.evidence = fmt.Sprintf("through listener %s by %s %s/%s", srv.Listener.Name, routeKind(routes[i]), routes[i].Namespace, routes[i].Name)
			}
			moved := movedOff(root, t.pod, old, new)
			out = append(out, rules.Finding{Rule: r.ID(), Action: action, Field: field(written, v, moved),
				Key: fmt.Sprintf("%s:%d|outside", key, srv.Port), Subjects: []string{c.String()},
				Message: message(target{"Gateway " + key, srv.Port, tcp, moved}, c, v, written, nil, 0, td)})
		}
	}
	return out
}

// waypoint reports whether a Gateway API Gateway is a waypoint (or an
// ambient east-west gateway): its listener speaks HBONE (istioctl waypoint
// generate's Gateway of class istio-waypoint, port 15008). meshguard does
// not model the callers a waypoint serves.
func waypoint(gw *state.Gateway) bool {
	return slices.ContainsFunc(gw.Servers, func(s state.GatewayServer) bool { return s.Protocol == "HBONE" })
}

// notJudged warns, for an enforcing policy, about each targetRef whose
// workloads meshguard does not model: waypoints, by a Service,
// ServiceEntry or GatewayClass target (policyattachment.go attaches those
// to waypoint proxies only), or by a Gateway that is a waypoint. Its
// callers are neither proven nor cleared: the warning says so rather than
// passing in silence.
func (r callersCut) notJudged(s state.Snapshot, ap *state.AuthorizationPolicy) []rules.Finding {
	if ap == nil || ap.DryRun || ap.Action == state.AuthzAudit {
		return nil
	}
	var out []rules.Finding
	for _, t := range ap.TargetRefs {
		what := ""
		switch {
		case t.Group == "" && t.Kind == "Service", t.Group == state.GroupNetworking && t.Kind == "ServiceEntry":
			what = fmt.Sprintf("the waypoint serving %s %s/%s", t.Kind, ap.Namespace, t.Name)
		case t.Group == state.GroupGatewayAPI && t.Kind == "GatewayClass":
			what = "the waypoints of GatewayClass " + t.Name
		case authz.TargetsGateway(t):
			if gw := s.KubeGateway(ap.Namespace, t.Name); gw != nil && waypoint(gw) {
				what = "waypoint Gateway " + ap.Namespace + "/" + t.Name
			}
		}
		if what == "" {
			continue
		}
		out = append(out, rules.Finding{Rule: r.ID(), Action: rules.Warn, Field: t.Field, Key: t.Field + "|not-judged",
			Message: fmt.Sprintf("not judged: the policy attaches to %s, and meshguard does not model who calls through waypoints (ambient) — check its callers by hand", what)})
	}
	return out
}
