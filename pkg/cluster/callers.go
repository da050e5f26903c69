package cluster

import (
	"encoding/json"
	"fmt"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshguard/meshguard/pkg/state"
)

// The objects that make the kube-apiserver call Services (see
// state.APIServerCall). APIServices and CRDs are read unstructured:
// meshguard links neither kube-aggregator's nor apiextensions' types, and
// keeps a few fields of each.
var (
	APIServiceGVK = schema.GroupVersionKind{Group: state.GroupAPIRegistration, Version: "v1", Kind: state.APIService}
	CRDGVK        = schema.GroupVersionKind{Group: state.GroupAPIExtensions, Version: "v1", Kind: state.CustomResourceDefinition}
)

// callerReaders are the live readers of the webhook configurations,
// APIServices and CRDs; liveKinds holds them with the others.
var callerReaders = map[schema.GroupKind]live{
	{Group: state.GroupAdmission, Kind: state.MutatingWebhookConfiguration}: {"v1",
		func() client.Object { return &admissionregistrationv1.MutatingWebhookConfiguration{} },
		func() client.ObjectList { return &admissionregistrationv1.MutatingWebhookConfigurationList{} },
		func(o runtime.Object) (*state.Object, error) {
			mwc := o.(*admissionregistrationv1.MutatingWebhookConfiguration)
			return &state.Object{Injector: state.FromMutatingWebhookConfiguration(mwc), Caller: state.MutatingWebhookCalls(mwc)}, nil
		}},
	{Group: state.GroupAdmission, Kind: state.ValidatingWebhookConfiguration}: {"v1",
		func() client.Object { return &admissionregistrationv1.ValidatingWebhookConfiguration{} },
		func() client.ObjectList { return &admissionregistrationv1.ValidatingWebhookConfigurationList{} },
		func(o runtime.Object) (*state.Object, error) {
			return &state.Object{Caller: state.FromValidatingWebhookConfiguration(o.(*admissionregistrationv1.ValidatingWebhookConfiguration))}, nil
		}},
	{Group: state.GroupAPIRegistration, Kind: state.APIService}: unstructuredReader(APIServiceGVK,
		func(name string, spec *state.APIServiceSpec) *state.APIServerCaller {
			return state.FromAPIServiceSpec(name, spec)
		}),
	{Group: state.GroupAPIExtensions, Kind: state.CustomResourceDefinition}: unstructuredReader(CRDGVK,
		func(name string, spec *state.CRDSpec) *state.APIServerCaller { return state.FromCRDSpec(name, spec) }),
}

// unstructuredReader reads a cluster-scoped kind unstructured and keeps what
// lean makes of its spec.
func unstructuredReader[S any](gvk schema.GroupVersionKind, lean func(name string, spec *S) *state.APIServerCaller) live {
	return unstructuredKind(gvk, func(u *unstructured.Unstructured, spec *S) *state.Object {
		return &state.Object{Caller: lean(u.GetName(), spec)}
	})
}

// unstructuredKind reads a kind meshguard does not link the types of
// (the callers' kinds, the Gateway API) unstructured: its spec decoded into
// S, and what lean keeps of it. A spec that does not decode is an error
// naming the object.
func unstructuredKind[S any](gvk schema.GroupVersionKind, lean func(u *unstructured.Unstructured, spec *S) *state.Object) live {
	return live{gvk.Version,
		func() client.Object {
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(gvk)
			return u
		},
		func() client.ObjectList {
			l := &unstructured.UnstructuredList{}
			l.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
			return l
		},
		func(o runtime.Object) (*state.Object, error) {
			u, ok := o.(*unstructured.Unstructured)
			if !ok {
				return nil, fmt.Errorf("unexpected %T for a %s", o, gvk.Kind)
			}
			var spec S
			if raw, ok := u.Object["spec"]; ok {
				data, err := json.Marshal(raw)
				if err != nil {
					return nil, err
				}
				if err := json.Unmarshal(data, &spec); err != nil {
					return nil, fmt.Errorf("%s %s: spec: %w", gvk.Kind, refOfUnstructured(u), err)
				}
			}
			return lean(u, &spec), nil
		}}
}

// refOfUnstructured names an object for messages: "ns/name", or "name".
func refOfUnstructured(u *unstructured.Unstructured) string {
	if u.GetNamespace() == "" {
		return u.GetName()
	}
	return u.GetNamespace() + "/" + u.GetName()
}

// leanCaller is the informer transform of the callers' kinds: it drops what
// the store never reads before the informer keeps the object, so that the
// cache holds no CA bundle, no webhook rule and no CRD schema (a cluster's
// CRDs are megabytes of OpenAPI). Other objects pass unchanged. It is
// idempotent, as client-go requires of transforms.
func leanCaller(obj interface{}) (interface{}, error) {
	if d, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		lean, err := leanCaller(d.Obj)
		d.Obj = lean
		return d, err
	}
	switch o := obj.(type) {
	case *admissionregistrationv1.ValidatingWebhookConfiguration:
		for i := range o.Webhooks {
			w := &o.Webhooks[i]
			w.ClientConfig.CABundle, w.Rules, w.MatchConditions = nil, nil, nil
			w.NamespaceSelector, w.ObjectSelector = nil, nil
		}
	case *admissionregistrationv1.MutatingWebhookConfiguration:
		// The selectors stay: they say which revisions an injector serves.
		for i := range o.Webhooks {
			w := &o.Webhooks[i]
			w.ClientConfig.CABundle, w.Rules, w.MatchConditions = nil, nil, nil
		}
	case *unstructured.Unstructured:
		switch o.GroupVersionKind().GroupKind() {
		case APIServiceGVK.GroupKind():
			pruneUnstructured(o, "service")
		case CRDGVK.GroupKind():
			pruneUnstructured(o, "conversion")
		}
	}
	return obj, nil
}

// pruneUnstructured keeps the object's identity and the named fields of its
// spec, and drops everything else (status included).
func pruneUnstructured(u *unstructured.Unstructured, keep string) {
	meta := map[string]interface{}{"name": u.GetName()}
	for _, k := range []string{"resourceVersion", "uid", "creationTimestamp"} {
		if v, ok, _ := unstructured.NestedFieldNoCopy(u.Object, "metadata", k); ok {
			meta[k] = v
		}
	}
	spec := map[string]interface{}{}
	if v, ok, _ := unstructured.NestedFieldNoCopy(u.Object, "spec", keep); ok {
		spec[keep] = v
	}
	u.Object = map[string]interface{}{"apiVersion": u.GetAPIVersion(), "kind": u.GetKind(), "metadata": meta, "spec": spec}
}
