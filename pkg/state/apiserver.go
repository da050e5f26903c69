package state

import (
	"slices"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
)

// API groups of the objects that make the kube-apiserver call a Service.
const (
	GroupAPIRegistration = "apiregistration.k8s.io"
	GroupAPIExtensions   = "apiextensions.k8s.io"
)

// The kube-apiserver calls the Services these objects name with TLS of its
// own: it is no Istio proxy, so to a server that enforces STRICT it is a
// plaintext caller. A STRICT inbound listener (pilot/pkg/security/authn)
// accepts only Istio mTLS, so the API server's handshake ends in EOF:
// Istio's maintainers answer that "the api server is not capable of doing
// Istio mTLS ... You must use PERMISSIVE mode" or exclude the port from
// interception (istio/istio#39290), the same holds for ztunnel in ambient
// (istio/istio#52874: Kyverno's webhook behind a mesh-wide STRICT), and
// Knative's webhook fails the same way (knative-extensions/net-istio#150).
// Istio's FAQ gives the fix for every caller outside the mesh: keep the
// server PERMISSIVE for it.
const (
	ValidatingWebhookConfiguration = "ValidatingWebhookConfiguration"
	MutatingWebhookConfiguration   = "MutatingWebhookConfiguration"
	APIService                     = "APIService"
	CustomResourceDefinition       = "CustomResourceDefinition"
)

// defaultServicePort is the port the API server calls a Service on when the
// reference names none (webhooks, APIServices and conversion webhooks alike).
const defaultServicePort = 443

// APIServerCall is one Service the kube-apiserver calls, and what makes it.
type APIServerCall struct {
	// Kind and Object name what makes the API server call: a
	// ValidatingWebhookConfiguration, MutatingWebhookConfiguration,
	// APIService or CustomResourceDefinition (its conversion webhook).
	Kind, Object string
	// Webhook is the webhook's name inside a configuration; empty otherwise.
	Webhook string
	// Namespace, Service and Port are the Service called and its port.
	Namespace, Service string
	Port               int32
}

// Caller renders what makes the call for messages:
// "ValidatingWebhookConfiguration kyverno-policy (webhook validate.kyverno.svc)".
func (c APIServerCall) Caller() string {
	s := c.Kind + " " + c.Object
	if c.Webhook != "" {
		s += " (webhook " + c.Webhook + ")"
	}
	return s
}

// APIServerCaller is the lean form of an object that makes the kube-apiserver
// call Services: only the Services and ports it names. Webhooks configured
// by URL, an APIService served locally and a CRD without a conversion
// webhook call no Service, and keep no call. It is kept even then, so that
// an update that drops the last call replaces the earlier form.
type APIServerCaller struct {
	Kind, Name string
	Calls      []APIServerCall
}

// ServiceRef is a Service reference as webhooks, APIServices and conversion
// webhooks write it (the same fields in each API).
type ServiceRef struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Port      *int32 `json:"port,omitempty"`
}

// APIServiceSpec is the part of an apiregistration.k8s.io/v1 APIService's
// spec that is kept: the Service behind it (none: served by the API server
// itself).
type APIServiceSpec struct {
	Service *ServiceRef `json:"service"`
}

// CRDSpec is the part of an apiextensions.k8s.io/v1 CustomResourceDefinition's
// spec that is kept: its conversion webhook's Service. The schemas, by far
// the largest part of a CRD, are never read.
type CRDSpec struct {
	Conversion *struct {
		Webhook *struct {
			ClientConfig *struct {
				Service *ServiceRef `json:"service"`
			} `json:"clientConfig"`
		} `json:"webhook"`
	} `json:"conversion"`
}

func (c *APIServerCaller) add(webhook string, ref *ServiceRef) {
	if ref == nil || ref.Name == "" {
		return
	}
	port := int32(defaultServicePort)
	if ref.Port != nil && *ref.Port != 0 {
		port = *ref.Port
	}
	c.Calls = append(c.Calls, APIServerCall{Kind: c.Kind, Object: c.Name, Webhook: webhook,
		Namespace: interned(ref.Namespace), Service: ref.Name, Port: port})
}

func webhookRef(cc admissionregistrationv1.WebhookClientConfig) *ServiceRef {
	if cc.Service == nil {
		return nil // called by URL: outside the cluster, or a name meshguard cannot tie to pods
	}
	return &ServiceRef{Namespace: cc.Service.Namespace, Name: cc.Service.Name, Port: cc.Service.Port}
}

// FromValidatingWebhookConfiguration keeps the Services a configuration's
// webhooks call.
func FromValidatingWebhookConfiguration(vwc *admissionregistrationv1.ValidatingWebhookConfiguration) *APIServerCaller {
	c := &APIServerCaller{Kind: ValidatingWebhookConfiguration, Name: vwc.Name}
	for _, w := range vwc.Webhooks {
		c.add(w.Name, webhookRef(w.ClientConfig))
	}
	return c
}

// MutatingWebhookCalls keeps the Services a MutatingWebhookConfiguration's
// webhooks call (its injector, if it is one, is FromMutatingWebhookConfiguration).
func MutatingWebhookCalls(mwc *admissionregistrationv1.MutatingWebhookConfiguration) *APIServerCaller {
	c := &APIServerCaller{Kind: MutatingWebhookConfiguration, Name: mwc.Name}
	for _, w := range mwc.Webhooks {
		c.add(w.Name, webhookRef(w.ClientConfig))
	}
	return c
}

// FromAPIServiceSpec keeps the Service an aggregated API is served by.
func FromAPIServiceSpec(name string, spec *APIServiceSpec) *APIServerCaller {
	c := &APIServerCaller{Kind: APIService, Name: name}
	if spec != nil {
		c.add("", spec.Service)
	}
	return c
}

// FromCRDSpec keeps the Service a CRD's conversion webhook is served by.
func FromCRDSpec(name string, spec *CRDSpec) *APIServerCaller {
	c := &APIServerCaller{Kind: CustomResourceDefinition, Name: name}
	if spec != nil && spec.Conversion != nil && spec.Conversion.Webhook != nil && spec.Conversion.Webhook.ClientConfig != nil {
		c.add("", spec.Conversion.Webhook.ClientConfig.Service)
	}
	return c
}

// callerKey names a caller object in the store.
func callerKey(kind, name string) string { return kind + "/" + name }

// setAPIServerCaller replaces the calls of one object in the store's index.
// The caller holds the store's write lock.
func (s *Store) setAPIServerCaller(kind, name string, c *APIServerCaller) {
	key := callerKey(kind, name)
	if old := s.callers[key]; old != nil {
		for _, call := range old.Calls {
			svcs := s.apiCalls[call.Namespace]
			svcs[call.Service] = slices.DeleteFunc(slices.Clone(svcs[call.Service]), func(o APIServerCall) bool {
				return o.Kind == kind && o.Object == name
			})
			if len(svcs[call.Service]) == 0 {
				delete(svcs, call.Service)
			}
			if len(svcs) == 0 {
				delete(s.apiCalls, call.Namespace)
				s.apiCalled = mark(s.apiCalled, call.Namespace, false)
			}
		}
		delete(s.callers, key)
	}
	if c == nil || len(c.Calls) == 0 {
		return
	}
	if s.callers == nil {
		s.callers, s.apiCalls = map[string]*APIServerCaller{}, map[string]map[string][]APIServerCall{}
	}
	s.callers[key] = c
	for _, call := range c.Calls {
		svcs := s.apiCalls[call.Namespace]
		if svcs == nil {
			svcs = map[string][]APIServerCall{}
			s.apiCalls[call.Namespace] = svcs
			s.apiCalled = mark(s.apiCalled, call.Namespace, true)
		}
		list := append(slices.Clone(svcs[call.Service]), call)
		slices.SortFunc(list, compareCalls)
		svcs[call.Service] = list
	}
}

func compareCalls(a, b APIServerCall) int {
	if a.Port != b.Port {
		return int(a.Port) - int(b.Port)
	}
	if c := strings.Compare(a.Kind, b.Kind); c != 0 {
		return c
	}
	if c := strings.Compare(a.Object, b.Object); c != 0 {
		return c
	}
	return strings.Compare(a.Webhook, b.Webhook)
}

// SetAPIServerCaller adds or replaces what an object makes the API server call.
func (s *Store) SetAPIServerCaller(c *APIServerCaller) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setAPIServerCaller(c.Kind, c.Name, c)
}

// DeleteAPIServerCaller forgets what the object kind/name made the API server call.
func (s *Store) DeleteAPIServerCaller(kind, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setAPIServerCaller(kind, name, nil)
}

func (v storeView) APIServerCalls(ns, service string) []APIServerCall {
	return v.s.apiCalls[ns][service]
}

func (v storeView) NamespacesCalledByAPIServer() []string { return v.s.apiCalled }
