// Package cluster is meshguard's view of the live cluster: the informers that
// keep a state.Store in step (lean pods, stripped metadata), one listing of
// everything for `check` without --state, the direct reads that confirm what
// the cache is missing, the TLS material read per review, and access checks.
// The rule engine never imports it: rules read state.Snapshot only.
package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/meshguard/meshguard/pkg/state"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"strings"

	networkingv1 "istio.io/client-go/pkg/apis/networking/v1"
	securityv1 "istio.io/client-go/pkg/apis/security/v1"

	"github.com/meshguard/meshguard/pkg/trust"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// CacheOptions are the cache settings the live Store relies on: pods are
// turned into lean Pods before the informer stores them, and every other
// object loses its managed fields and last-applied annotation.
func CacheOptions() cache.Options {
	return cache.Options{
		DefaultTransform: stripMetadata,
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Pod{}: {Transform: LeanPod},
		},
	}
}

func stripMetadata(obj interface{}) (interface{}, error) {
	if m, err := meta.Accessor(obj); err == nil {
		m.SetManagedFields(nil)
		if a := m.GetAnnotations(); a != nil {
			delete(a, corev1.LastAppliedConfigAnnotation)
		}
	}
	return obj, nil
}

// Feed keeps store in step with the informers of c. It returns the handler
// registrations; the store is complete once all of them have synced.
func Feed(ctx context.Context, c cache.Informers, store *state.Store) ([]toolscache.ResourceEventHandlerRegistration, error) {
	feeds := []struct {
		obj    client.Object
		set    func(runtime.Object)
		delete func(ns, name string)
	}{
		{&corev1.Namespace{}, func(o runtime.Object) { store.SetNamespace(state.FromNamespace(o.(*corev1.Namespace))) },
			func(_, name string) { store.DeleteNamespace(name) }},
		{&corev1.Service{}, func(o runtime.Object) { store.SetService(state.FromService(o.(*corev1.Service))) }, store.DeleteService},
		{&corev1.Pod{}, func(o runtime.Object) { store.SetPod(o.(*state.Pod)) }, store.DeletePod},
		{&securityv1.PeerAuthentication{}, func(o runtime.Object) {
			pa := o.(*securityv1.PeerAuthentication)
			store.SetPeerAuthentication(state.FromPeerAuthenticationSpec(refOf(&pa.ObjectMeta), &pa.Spec))
		}, store.DeletePeerAuthentication},
		{&networkingv1.DestinationRule{}, func(o runtime.Object) {
			dr := o.(*networkingv1.DestinationRule)
			store.SetDestinationRule(state.FromDestinationRuleSpec(refOf(&dr.ObjectMeta), &dr.Spec))
		}, store.DeleteDestinationRule},
		{&networkingv1.VirtualService{}, func(o runtime.Object) {
			vs := o.(*networkingv1.VirtualService)
			store.SetVirtualService(state.FromVirtualServiceSpec(refOf(&vs.ObjectMeta), &vs.Spec))
		}, store.DeleteVirtualService},
		{&networkingv1.Gateway{}, func(o runtime.Object) {
			gw := o.(*networkingv1.Gateway)
			store.SetGateway(state.FromGatewaySpec(refOf(&gw.ObjectMeta), &gw.Spec))
		}, store.DeleteGateway},
		{&networkingv1.ServiceEntry{}, func(o runtime.Object) {
			se := o.(*networkingv1.ServiceEntry)
			store.SetServiceEntry(state.FromServiceEntrySpec(refOf(&se.ObjectMeta), &se.Spec))
		}, store.DeleteServiceEntry},
		// Which istio.io/rev values get sidecars: the injectors' configurations.
		{&admissionregistrationv1.MutatingWebhookConfiguration{}, func(o runtime.Object) {
			mwc := o.(*admissionregistrationv1.MutatingWebhookConfiguration)
			if inj := state.FromMutatingWebhookConfiguration(mwc); inj != nil {
				store.SetInjector(inj)
			} else {
				store.DeleteInjector("", mwc.Name)
			}
		}, store.DeleteInjector},
	}
	var regs []toolscache.ResourceEventHandlerRegistration
	for _, f := range feeds {
		inf, err := c.GetInformer(ctx, f.obj)
		if err != nil {
			return nil, fmt.Errorf("informer for %T: %w", f.obj, err)
		}
		set, del := f.set, f.delete
		reg, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
			AddFunc:    func(o interface{}) { set(o.(runtime.Object)) },
			UpdateFunc: func(_, o interface{}) { set(o.(runtime.Object)) },
			DeleteFunc: func(o interface{}) {
				if d, ok := o.(toolscache.DeletedFinalStateUnknown); ok {
					o = d.Obj
				}
				if m, err := meta.Accessor(o); err == nil {
					del(m.GetNamespace(), m.GetName())
				}
			},
		})
		if err != nil {
			return nil, fmt.Errorf("handler for %T: %w", f.obj, err)
		}
		regs = append(regs, reg)
	}
	return regs, nil
}

// LeanPod is an informer transform: it replaces a *corev1.Pod with the lean
// *Pod before the informer stores it, so full pod specs are never cached.
// It is idempotent, as client-go requires of transforms.
func LeanPod(obj interface{}) (interface{}, error) {
	switch o := obj.(type) {
	case *corev1.Pod:
		return state.FromPod(o), nil
	case toolscache.DeletedFinalStateUnknown:
		if p, ok := o.Obj.(*corev1.Pod); ok {
			o.Obj = state.FromPod(p)
		}
		return o, nil
	default:
		return obj, nil
	}
}

func refOf(m *metav1.ObjectMeta) state.ObjectRef {
	return state.ObjectRef{Namespace: m.Namespace, Name: m.Name, Created: m.CreationTimestamp.Time}
}

// LoadCluster fills store with one listing of the live cluster (for `check`
// without --state).
func LoadCluster(ctx context.Context, c client.Reader, store *state.Store) error {
	var nss corev1.NamespaceList
	if err := c.List(ctx, &nss); err != nil {
		return fmt.Errorf("listing namespaces: %w", err)
	}
	for i := range nss.Items {
		store.SetNamespace(state.FromNamespace(&nss.Items[i]))
	}
	var svcs corev1.ServiceList
	if err := c.List(ctx, &svcs); err != nil {
		return fmt.Errorf("listing services: %w", err)
	}
	for i := range svcs.Items {
		store.SetService(state.FromService(&svcs.Items[i]))
	}
	var pods corev1.PodList
	if err := c.List(ctx, &pods, client.Limit(500)); err != nil {
		return fmt.Errorf("listing pods: %w", err)
	}
	for {
		for i := range pods.Items {
			store.SetPod(state.FromPod(&pods.Items[i]))
		}
		if pods.Continue == "" {
			break
		}
		next := pods.Continue
		pods = corev1.PodList{}
		if err := c.List(ctx, &pods, client.Limit(500), client.Continue(next)); err != nil {
			return fmt.Errorf("listing pods: %w", err)
		}
	}
	var pas securityv1.PeerAuthenticationList
	if err := c.List(ctx, &pas); err != nil {
		return fmt.Errorf("listing peerauthentications: %w", err)
	}
	for _, pa := range pas.Items {
		store.SetPeerAuthentication(state.FromPeerAuthenticationSpec(refOf(&pa.ObjectMeta), &pa.Spec))
	}
	var drs networkingv1.DestinationRuleList
	if err := c.List(ctx, &drs); err != nil {
		return fmt.Errorf("listing destinationrules: %w", err)
	}
	for _, dr := range drs.Items {
		store.SetDestinationRule(state.FromDestinationRuleSpec(refOf(&dr.ObjectMeta), &dr.Spec))
	}
	var vss networkingv1.VirtualServiceList
	if err := c.List(ctx, &vss); err != nil {
		return fmt.Errorf("listing virtualservices: %w", err)
	}
	for _, vs := range vss.Items {
		store.SetVirtualService(state.FromVirtualServiceSpec(refOf(&vs.ObjectMeta), &vs.Spec))
	}
	var gws networkingv1.GatewayList
	if err := c.List(ctx, &gws); err != nil {
		return fmt.Errorf("listing gateways: %w", err)
	}
	for _, gw := range gws.Items {
		store.SetGateway(state.FromGatewaySpec(refOf(&gw.ObjectMeta), &gw.Spec))
	}
	kgws := &unstructured.UnstructuredList{}
	kgws.SetGroupVersionKind(KubeGatewayGVK.GroupVersion().WithKind("GatewayList"))
	switch err := c.List(ctx, kgws); {
	case err == nil:
		for i := range kgws.Items {
			gw, err := kubeGatewayFrom(&kgws.Items[i])
			if err != nil {
				return err
			}
			store.SetGateway(gw)
		}
	case meta.IsNoMatchError(err) || apierrors.IsNotFound(err):
		// The Gateway API is not installed: nothing to read.
	default:
		return fmt.Errorf("listing Gateway API gateways: %w", err)
	}
	var ses networkingv1.ServiceEntryList
	if err := c.List(ctx, &ses); err != nil {
		return fmt.Errorf("listing serviceentries: %w", err)
	}
	for _, se := range ses.Items {
		store.SetServiceEntry(state.FromServiceEntrySpec(refOf(&se.ObjectMeta), &se.Spec))
	}
	var mwcs admissionregistrationv1.MutatingWebhookConfigurationList
	if err := c.List(ctx, &mwcs); err != nil {
		return fmt.Errorf("listing mutatingwebhookconfigurations: %w", err)
	}
	for i := range mwcs.Items {
		if inj := state.FromMutatingWebhookConfiguration(&mwcs.Items[i]); inj != nil {
			store.SetInjector(inj)
		}
	}
	return nil
}

// Confirm reads the objects refs name straight from the API server (no
// cache) and returns those that exist and those that no longer do. A ref
// without a name lists its kind in its namespace. Only the kinds findings can
// rest on are supported.
func Confirm(ctx context.Context, c client.Reader, refs []state.ObjectRef) (found []*state.Object, gone []state.ObjectRef, err error) {
	for _, r := range refs {
		key := client.ObjectKey{Namespace: r.Namespace, Name: r.Name}
		switch r.Kind {
		case "Service":
			var svc corev1.Service
			if err := c.Get(ctx, key, &svc); err == nil {
				found = append(found, &state.Object{Service: state.FromService(&svc)})
			} else if !apierrors.IsNotFound(err) {
				return nil, nil, fmt.Errorf("reading Service %s: %w", key, err)
			}
		case "Gateway":
			if r.Group == state.GroupGatewayAPI {
				gw, err := getKubeGateway(ctx, c, key)
				if err != nil {
					return nil, nil, err
				}
				if gw != nil {
					found = append(found, &state.Object{KubeGateway: gw})
				}
				continue
			}
			var gw networkingv1.Gateway
			if err := c.Get(ctx, key, &gw); err == nil {
				found = append(found, &state.Object{Gateway: state.FromGatewaySpec(refOf(&gw.ObjectMeta), &gw.Spec)})
			} else if !apierrors.IsNotFound(err) {
				return nil, nil, fmt.Errorf("reading Gateway %s: %w", key, err)
			}
		case "VirtualService":
			// A route the cache still shows may have changed or gone a moment ago.
			var vs networkingv1.VirtualService
			switch err := c.Get(ctx, key, &vs); {
			case err == nil:
				found = append(found, &state.Object{VS: state.FromVirtualServiceSpec(refOf(&vs.ObjectMeta), &vs.Spec)})
			case apierrors.IsNotFound(err):
				gone = append(gone, r)
			default:
				return nil, nil, fmt.Errorf("reading VirtualService %s: %w", key, err)
			}
		case "DestinationRule":
			var list networkingv1.DestinationRuleList
			if err := c.List(ctx, &list, client.InNamespace(r.Namespace)); err != nil {
				return nil, nil, fmt.Errorf("listing DestinationRules in %s: %w", r.Namespace, err)
			}
			for _, dr := range list.Items {
				found = append(found, &state.Object{DR: state.FromDestinationRuleSpec(refOf(&dr.ObjectMeta), &dr.Spec)})
			}
		}
	}
	return found, gone, nil
}

// KubeGatewayGVK is the Gateway API Gateway version meshguard reads.
var KubeGatewayGVK = schema.GroupVersionKind{Group: state.GroupGatewayAPI, Version: "v1", Kind: "Gateway"}

// getKubeGateway reads one Gateway API Gateway; nil when it does not exist or
// the API is not served at all.
func getKubeGateway(ctx context.Context, c client.Reader, key client.ObjectKey) (*state.Gateway, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(KubeGatewayGVK)
	switch err := c.Get(ctx, key, u); {
	case apierrors.IsNotFound(err) || meta.IsNoMatchError(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("reading Gateway API Gateway %s: %w", key, err)
	}
	return kubeGatewayFrom(u)
}

// kubeGatewayFrom reduces an unstructured Gateway API Gateway to the lean form.
func kubeGatewayFrom(u *unstructured.Unstructured) (*state.Gateway, error) {
	var spec state.KubeGatewaySpec
	if raw, ok := u.Object["spec"]; ok {
		data, err := json.Marshal(raw)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(data, &spec); err != nil {
			return nil, fmt.Errorf("Gateway API Gateway %s/%s: spec: %w", u.GetNamespace(), u.GetName(), err)
		}
	}
	return state.FromKubeGatewaySpec(state.ObjectRef{Namespace: u.GetNamespace(), Name: u.GetName(), Created: u.GetCreationTimestamp().Time}, &spec), nil
}

// FeedKubeGateways adds Gateway API Gateways to the feeds of store. Call it
// only when the API is served (see KubeGatewaysServed): an informer for a kind
// the API server does not know never syncs.
func FeedKubeGateways(ctx context.Context, c cache.Informers, store *state.Store) (toolscache.ResourceEventHandlerRegistration, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(KubeGatewayGVK)
	inf, err := c.GetInformer(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("informer for Gateway API Gateways: %w", err)
	}
	set := func(o interface{}) {
		if u, ok := o.(*unstructured.Unstructured); ok {
			if gw, err := kubeGatewayFrom(u); err == nil {
				store.SetGateway(gw)
			}
		}
	}
	return inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    set,
		UpdateFunc: func(_, o interface{}) { set(o) },
		DeleteFunc: func(o interface{}) {
			if d, ok := o.(toolscache.DeletedFinalStateUnknown); ok {
				o = d.Obj
			}
			if m, err := meta.Accessor(o); err == nil {
				store.DeleteKubeGateway(m.GetNamespace(), m.GetName())
			}
		},
	})
}

// KubeGatewaysServed reports whether the API server serves Gateway API
// Gateways (the CRD is installed).
func KubeGatewaysServed(mapper meta.RESTMapper) (bool, error) {
	_, err := mapper.RESTMapping(KubeGatewayGVK.GroupKind(), KubeGatewayGVK.Version)
	switch {
	case err == nil:
		return true, nil
	case meta.IsNoMatchError(err):
		return false, nil
	default:
		return false, fmt.Errorf("looking up Gateway API Gateways: %w", err)
	}
}

// FetchTrust reads, uncached, the Secrets a review needs (each given as
// namespace and name) and the istio-ca-root-cert ConfigMaps of
// rootNamespaces, and reduces them to a trust.View. Secret data is inspected
// and dropped here; nothing of it is cached, logged or returned.
func FetchTrust(ctx context.Context, c client.Reader, view *trust.View, secrets [][2]string, rootNamespaces []string) error {
	for _, ref := range secrets {
		key := client.ObjectKey{Namespace: ref[0], Name: ref[1]}
		var sec corev1.Secret
		switch err := c.Get(ctx, key, &sec); {
		case apierrors.IsNotFound(err):
			view.Secrets[ref[0]+"/"+ref[1]] = nil
		case err != nil:
			return fmt.Errorf("reading Secret %s: %w", key, err)
		default:
			view.Secrets[ref[0]+"/"+ref[1]] = state.InspectSecret(&sec)
		}
	}
	for _, ns := range rootNamespaces {
		if _, done := view.Roots[ns]; done {
			continue
		}
		var cm corev1.ConfigMap
		err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: trust.MeshRootConfigMap}, &cm)
		switch {
		case apierrors.IsNotFound(err):
			view.Roots[ns] = nil
		case err != nil:
			return fmt.Errorf("reading ConfigMap %s/%s: %w", ns, trust.MeshRootConfigMap, err)
		default:
			// A root that does not parse cannot be judged against; MG403 says so.
			view.Roots[ns] = state.MeshRoot(&cm)
		}
	}
	return nil
}

// MayGet asks the API server, with a SubjectAccessReview, whether user may
// get the Secret or ConfigMap ref names.
func MayGet(ctx context.Context, c client.Client, user authenticationv1.UserInfo, ref state.ObjectRef) (bool, error) {
	extra := map[string]authorizationv1.ExtraValue{}
	for k, v := range user.Extra {
		extra[k] = authorizationv1.ExtraValue(v)
	}
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: user.Username, UID: user.UID, Groups: user.Groups, Extra: extra,
		ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: ref.Namespace, Verb: "get",
			Resource: strings.ToLower(ref.Kind) + "s", Name: ref.Name},
	}}
	if err := c.Create(ctx, sar); err != nil {
		return false, err
	}
	return sar.Status.Allowed, nil
}
