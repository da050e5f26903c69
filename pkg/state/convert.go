package state

import (
	"strings"

	"istio.io/api/annotation"
	"istio.io/api/label"
	securityv1beta1 "istio.io/api/security/v1beta1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/cache"
)

// ProxyContainerName is the name Istio gives its injected proxy container.
const ProxyContainerName = "istio-proxy"

// LeanPod is an informer transform: it replaces a *corev1.Pod with the lean
// *Pod before the informer stores it, so full pod specs are never cached.
// It is idempotent, as client-go requires of transforms.
func LeanPod(obj interface{}) (interface{}, error) {
	switch o := obj.(type) {
	case *corev1.Pod:
		return FromPod(o), nil
	case cache.DeletedFinalStateUnknown:
		if p, ok := o.Obj.(*corev1.Pod); ok {
			o.Obj = FromPod(p)
		}
		return o, nil
	default:
		return obj, nil
	}
}

// FromPod keeps the fields rules read and drops everything else.
func FromPod(p *corev1.Pod) *Pod {
	lp := &Pod{
		Namespace:         p.Namespace,
		Name:              p.Name,
		ResourceVersion:   p.ResourceVersion,
		Labels:            p.Labels,
		Phase:             p.Status.Phase,
		HostNetwork:       p.Spec.HostNetwork,
		AmbientRedirected: p.Annotations[annotation.AmbientRedirection.Name] == "enabled",
		DataplaneNone:     p.Labels[label.IoIstioDataplaneMode.Name] == "none",
		InjectOptOut: p.Annotations[annotation.SidecarInject.Name] == "false" ||
			p.Labels[label.SidecarInject.Name] == "false",
	}
	_, lp.Sidecar = p.Annotations[annotation.SidecarStatus.Name]
	for i := range p.Spec.InitContainers {
		if p.Spec.InitContainers[i].Name == ProxyContainerName {
			lp.Sidecar = true // native sidecar (restartPolicy: Always)
		}
	}
	for i := range p.Spec.Containers {
		c := &p.Spec.Containers[i]
		if c.Name == ProxyContainerName {
			lp.Sidecar = true
			continue // the proxy's own ports are not workload ports
		}
		for _, cp := range c.Ports {
			lp.Ports = append(lp.Ports, NamedPort{Name: cp.Name, Port: cp.ContainerPort})
		}
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			lp.Ready = c.Status == corev1.ConditionTrue
		}
	}
	for _, ref := range p.OwnerReferences {
		if ref.Controller == nil || !*ref.Controller {
			continue
		}
		lp.OwnerKind, lp.OwnerName = ref.Kind, ref.Name
		// A ReplicaSet named <deployment>-<pod-template-hash> belongs to a Deployment.
		if hash := p.Labels["pod-template-hash"]; ref.Kind == "ReplicaSet" && hash != "" && strings.HasSuffix(ref.Name, "-"+hash) {
			lp.OwnerKind, lp.OwnerName = "Deployment", strings.TrimSuffix(ref.Name, "-"+hash)
		}
	}
	return lp
}

// FromService keeps a Service's selector and ports.
func FromService(s *corev1.Service) *Service {
	ls := &Service{Namespace: s.Namespace, Name: s.Name, Selector: s.Spec.Selector}
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
