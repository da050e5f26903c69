package state

import (
	"cmp"
	"strconv"
	"strings"

	"istio.io/api/annotation"
	"istio.io/api/label"
	securityv1beta1 "istio.io/api/security/v1beta1"
	corev1 "k8s.io/api/core/v1"
)

// ProxyContainerName is the name Istio gives its injected proxy container.
const ProxyContainerName = "istio-proxy"

// FromPod keeps the fields rules read and drops everything else.
func FromPod(p *corev1.Pod) *Pod {
	f := PodFields{Namespace: p.Namespace, Name: p.Name, ResourceVersion: p.ResourceVersion, Labels: p.Labels,
		Annotations: p.Annotations, HostNetwork: p.Spec.HostNetwork, Phase: p.Status.Phase, ServiceAccount: p.Spec.ServiceAccountName}
	for i := range p.Spec.InitContainers {
		f.InitContainers = append(f.InitContainers, ContainerFields{Name: p.Spec.InitContainers[i].Name})
	}
	for i := range p.Spec.Containers {
		c := &p.Spec.Containers[i]
		cf := ContainerFields{Name: c.Name}
		if c.Name == ProxyContainerName {
			cf.Args = c.Args
			for _, e := range c.Env {
				cf.NetworkView = cf.NetworkView || e.Name == RequestedNetworkView && e.Value != ""
			}
		}
		for _, cp := range c.Ports {
			cf.Ports = append(cf.Ports, NamedPort{Name: cp.Name, Port: cp.ContainerPort})
		}
		f.Containers = append(f.Containers, cf)
	}
	for _, c := range p.Status.Conditions {
		f.Conditions = append(f.Conditions, ConditionFields{Type: c.Type, Status: c.Status})
	}
	for _, ref := range p.OwnerReferences {
		f.Owners = append(f.Owners, OwnerFields{Kind: ref.Kind, Name: ref.Name, Controller: ref.Controller != nil && *ref.Controller})
	}
	return f.Lean()
}

// PodFields are the parts of a Pod the lean form is built from; the
// informer fills them from a *corev1.Pod, the file reader straight from JSON.
type PodFields struct {
	Namespace, Name, ResourceVersion string
	Labels, Annotations              map[string]string
	HostNetwork                      bool
	InitContainers, Containers       []ContainerFields
	Phase                            corev1.PodPhase
	Conditions                       []ConditionFields
	Owners                           []OwnerFields
	ServiceAccount                   string
}

type ContainerFields struct {
	Name  string
	Ports []NamedPort
	// Args are read for the proxy container only: its mode (sidecar,
	// router, waypoint) is the second argument.
	Args []string
	// NetworkView: the proxy container sets RequestedNetworkView (read for
	// the proxy container only).
	NetworkView bool
}

// RequestedNetworkView is the proxy environment variable that limits the
// endpoints istiod sends a proxy to the networks it names; gen-eastwest-
// gateway.sh sets it on multi-network east-west gateways only.
const RequestedNetworkView = "ISTIO_META_REQUESTED_NETWORK_VIEW"

type ConditionFields struct {
	Type   corev1.PodConditionType `json:"type"`
	Status corev1.ConditionStatus  `json:"status"`
}

type OwnerFields struct {
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	Controller bool   `json:"controller"`
}

func (f *PodFields) Lean() *Pod {
	lp := &Pod{
		Namespace:         interned(f.Namespace),
		Name:              f.Name,
		ResourceVersion:   f.ResourceVersion,
		Labels:            internedLabels(f.Labels),
		Phase:             f.Phase,
		ServiceAccount:    interned(cmp.Or(f.ServiceAccount, "default")),
		HostNetwork:       f.HostNetwork,
		AmbientRedirected: f.Annotations[annotation.AmbientRedirection.Name] == "enabled",
		DataplaneNone:     f.Labels[label.IoIstioDataplaneMode.Name] == "none",
		InjectOptOut: f.Annotations[annotation.SidecarInject.Name] == "false" ||
			f.Labels[label.SidecarInject.Name] == "false",
	}
	_, lp.Sidecar = f.Annotations[annotation.SidecarStatus.Name]
	lp.Excluded = portList(f.Annotations[annotation.SidecarTrafficExcludeInboundPorts.Name])
	if inc, ok := f.Annotations[annotation.SidecarTrafficIncludeInboundPorts.Name]; ok && strings.TrimSpace(inc) != "*" {
		lp.Intercepted = portList(inc)
		if lp.Intercepted == nil {
			lp.Intercepted = []uint32{} // "" intercepts nothing
		}
	}
	for _, c := range f.InitContainers {
		if c.Name == ProxyContainerName {
			lp.Sidecar = true // native sidecar (restartPolicy: Always)
		}
	}
	for _, c := range f.Containers {
		if c.Name == ProxyContainerName {
			lp.Sidecar = true
			lp.Router = routerArgs(c.Args)
			lp.NetworkView = c.NetworkView
			continue // the proxy's own ports are not workload ports
		}
		lp.Ports = append(lp.Ports, c.Ports...)
	}
	lp.Router = lp.Sidecar && (lp.Router || routerLabels(f.Labels))
	for _, c := range f.Conditions {
		if c.Type == corev1.PodReady {
			lp.Ready = c.Status == corev1.ConditionTrue
		}
	}
	for _, ref := range f.Owners {
		if !ref.Controller {
			continue
		}
		lp.OwnerKind, lp.OwnerName = ref.Kind, ref.Name
		// A ReplicaSet named <deployment>-<pod-template-hash> belongs to a Deployment.
		if hash := f.Labels["pod-template-hash"]; ref.Kind == "ReplicaSet" && hash != "" && strings.HasSuffix(ref.Name, "-"+hash) {
			lp.OwnerKind, lp.OwnerName = "Deployment", strings.TrimSuffix(ref.Name, "-"+hash)
		}
	}
	return lp
}

// routerArgs reports whether pilot-agent runs as a router or a waypoint:
// "proxy router" in Istio's gateway charts, its gateway injection template
// and the Deployments it creates for Gateway API gateways (manifests/charts/
// istio-control/istio-discovery/files/kube-gateway.yaml), "proxy waypoint"
// for waypoints; injected sidecars run "proxy sidecar".
func routerArgs(args []string) bool {
	for i, a := range args {
		if a == "proxy" && i+1 < len(args) {
			return args[i+1] == "router" || args[i+1] == "waypoint"
		}
	}
	return false
}

// routerLabels reports whether a pod with a proxy carries the labels of a
// gateway where its arguments are not known (state written by hand): Istio's
// gateway charts' istio=ingressgateway|egressgateway|eastwestgateway, and the
// Gateway API gateway name that Istio's gateway and waypoint Deployments put
// on their pods (kube-gateway.yaml, waypoint.yaml).
func routerLabels(labels map[string]string) bool {
	switch labels["istio"] {
	case "ingressgateway", "egressgateway", "eastwestgateway":
		return true
	}
	_, gatewayAPI := labels[label.IoK8sNetworkingGatewayGatewayName.Name]
	return gatewayAPI
}

// portList reads a comma-separated list of ports; entries that are no port
// number are skipped.
func portList(s string) []uint32 {
	var out []uint32
	for _, f := range strings.Split(s, ",") {
		if n, err := strconv.ParseUint(strings.TrimSpace(f), 10, 16); err == nil && n > 0 {
			out = append(out, uint32(n))
		}
	}
	return out
}

// FromService keeps a Service's selector and ports.
func FromService(s *corev1.Service) *Service {
	ls := &Service{Namespace: s.Namespace, Name: s.Name, Selector: s.Spec.Selector,
		External: s.Spec.Type == corev1.ServiceTypeLoadBalancer || s.Spec.Type == corev1.ServiceTypeNodePort || len(s.Spec.ExternalIPs) > 0}
	for _, p := range s.Spec.Ports {
		sp := ServicePort{Name: p.Name, Port: p.Port, Protocol: p.Protocol}
		if p.AppProtocol != nil {
			sp.AppProtocol = *p.AppProtocol
		}
		switch {
		case p.TargetPort.StrVal != "":
			sp.TargetPortName = p.TargetPort.StrVal
		case p.TargetPort.IntVal != 0:
			sp.TargetPort = p.TargetPort.IntVal
		default:
			sp.TargetPort = p.Port // Kubernetes defaults targetPort to port
		}
		ls.Ports = append(ls.Ports, sp)
	}
	return ls
}

// FromNamespace keeps a Namespace's name and labels.
func FromNamespace(ns *corev1.Namespace) *Namespace {
	return &Namespace{Name: ns.Name, Labels: ns.Labels}
}

// FromPeerAuthenticationSpec builds the lean policy from the spec shared by
// every served version (security v1beta1 and v1 carry the same proto).
func FromPeerAuthenticationSpec(meta ObjectRef, spec *securityv1beta1.PeerAuthentication) *PeerAuthentication {
	pa := &PeerAuthentication{Namespace: meta.Namespace, Name: meta.Name, Created: meta.Created, Mode: ModeUnset}
	if spec == nil {
		return pa
	}
	if sel := spec.GetSelector().GetMatchLabels(); len(sel) > 0 {
		pa.Selector = sel
	}
	if m := spec.GetMtls(); m != nil {
		pa.Mode = MTLSMode(m.GetMode().String())
	}
	if len(spec.GetPortLevelMtls()) > 0 {
		pa.PortModes = make(map[uint32]MTLSMode, len(spec.GetPortLevelMtls()))
		for port, m := range spec.GetPortLevelMtls() {
			pa.PortModes[port] = MTLSMode(m.GetMode().String())
		}
	}
	return pa
}
