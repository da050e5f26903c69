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
	"strings"

	networkingv1 "istio.io/client-go/pkg/apis/networking/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshguard/meshguard/pkg/state"
	"github.com/meshguard/meshguard/pkg/trust"
)

// CacheOptions are the cache settings the live Store relies on: pods are
// turned into lean Pods before the informer stores them, every other object
// loses its managed fields and last-applied annotation, and the webhook
// configurations, APIServices and CRDs keep little more than the Services
// they make the API server call (leanCaller).
func CacheOptions() cache.Options {
	return cache.Options{
		DefaultTransform: func(obj interface{}) (interface{}, error) {
			obj, err := stripMetadata(obj)
			if err != nil {
				return nil, err
			}
			return leanCaller(obj)
		},
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Pod{}: {Transform: LeanPod},
			// Only the slices the store keeps are watched (see liveKinds).
			&discoveryv1.EndpointSlice{}: {Label: notControllerManaged, Transform: LeanEndpointSlice},
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

// Feed keeps store in step with the informers of c, one per watched kind of
// state.Kinds. A kind watched only if served (the Gateway API) is skipped
// when the API server does not know it (an informer for it would never
// sync) and returned in unserved; one installed later is read directly when
// a route binds it. Feed returns the handler registrations; the store is
// complete once all of them have synced.
func Feed(ctx context.Context, c cache.Informers, mapper meta.RESTMapper, store *state.Store) (regs []toolscache.ResourceEventHandlerRegistration, unserved []state.Kind, err error) {
	for _, k := range state.Kinds {
		if k.Access == state.OnDemand {
			continue
		}
		l, err := liveKind(k)
		if err != nil {
			return nil, nil, err
		}
		if k.Access == state.WatchedIfServed {
			switch _, err := mapper.RESTMapping(schema.GroupKind{Group: k.Group, Kind: k.Kind}, l.version); {
			case meta.IsNoMatchError(err):
				unserved = append(unserved, k)
				continue
			case err != nil:
				return nil, nil, fmt.Errorf("looking up %s: %w", k, err)
			}
		}
		reg, err := feed(ctx, c, store, k, l)
		if err != nil {
			return nil, nil, err
		}
		regs = append(regs, reg)
	}
	return regs, unserved, nil
}

// feed registers the handler that applies one kind's events to store.
func feed(ctx context.Context, c cache.Informers, store *state.Store, k state.Kind, l live) (toolscache.ResourceEventHandlerRegistration, error) {
	inf, err := c.GetInformer(ctx, l.obj())
	if err != nil {
		return nil, fmt.Errorf("informer for %s: %w", k, err)
	}
	remove := func(o interface{}) {
		if d, ok := o.(toolscache.DeletedFinalStateUnknown); ok {
			o = d.Obj
		}
		if m, err := meta.Accessor(o); err == nil {
			store.Remove(k.Ref(m.GetNamespace(), m.GetName()))
		}
	}
	set := func(o interface{}) {
		obj, ok := o.(runtime.Object)
		if !ok {
			return
		}
		switch lean, err := l.lean(obj); {
		case err != nil:
			// An object the API server accepted but meshguard cannot read
			// (a Gateway API spec of an unknown shape) is left out, as if
			// absent; rules that need it confirm by a direct read.
			remove(o)
		case lean == nil:
			remove(o) // no longer of interest (an injector that stopped injecting)
		default:
			store.Apply(lean)
		}
	}
	reg, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    set,
		UpdateFunc: func(_, o interface{}) { set(o) },
		DeleteFunc: remove,
	})
	if err != nil {
		return nil, fmt.Errorf("handler for %s: %w", k, err)
	}
	return reg, nil
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

// LeanEndpointSlice is the informer transform of the EndpointSlices the
// store keeps: it leaves what state.FromEndpointSlice reads (the Service and
// manager labels, address type, ports, each endpoint's conditions and pod
// reference) and drops the rest (addresses, nodes, zones, hints, other
// metadata), halving what a cached endpoint costs. Idempotent.
func LeanEndpointSlice(obj interface{}) (interface{}, error) {
	switch o := obj.(type) {
	case *discoveryv1.EndpointSlice:
		return leanSlice(o), nil
	case toolscache.DeletedFinalStateUnknown:
		if es, ok := o.Obj.(*discoveryv1.EndpointSlice); ok {
			o.Obj = leanSlice(es)
		}
		return o, nil
	default:
		return obj, nil
	}
}

func leanSlice(es *discoveryv1.EndpointSlice) *discoveryv1.EndpointSlice {
	out := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Namespace: es.Namespace, Name: es.Name, UID: es.UID, ResourceVersion: es.ResourceVersion,
			CreationTimestamp: es.CreationTimestamp, DeletionTimestamp: es.DeletionTimestamp},
		AddressType: es.AddressType,
		Ports:       es.Ports,
		Endpoints:   make([]discoveryv1.Endpoint, len(es.Endpoints)),
	}
	for _, k := range []string{discoveryv1.LabelServiceName, discoveryv1.LabelManagedBy} {
		if v, ok := es.Labels[k]; ok {
			if out.Labels == nil {
				out.Labels = map[string]string{}
			}
			out.Labels[k] = v
		}
	}
	for i, e := range es.Endpoints {
		out.Endpoints[i].Conditions = e.Conditions
		if r := e.TargetRef; r != nil {
			out.Endpoints[i].TargetRef = &corev1.ObjectReference{Kind: r.Kind, APIVersion: r.APIVersion, Namespace: r.Namespace, Name: r.Name}
		}
	}
	return out
}

func refOf(m *metav1.ObjectMeta) state.ObjectRef {
	return state.ObjectRef{Namespace: m.Namespace, Name: m.Name, Created: m.CreationTimestamp.Time}
}

// LoadCluster fills store with one listing of the live cluster (for `check`
// without --state): every watched kind of state.Kinds, 500 objects a page.
// A kind watched only if served is skipped when the API server does not
// know it.
func LoadCluster(ctx context.Context, c client.Reader, store *state.Store) error {
	for _, k := range state.Kinds {
		if k.Access == state.OnDemand {
			continue
		}
		l, err := liveKind(k)
		if err != nil {
			return err
		}
		if err := loadKind(ctx, c, store, k, l); err != nil {
			return err
		}
	}
	return nil
}

func loadKind(ctx context.Context, c client.Reader, store *state.Store, k state.Kind, l live) error {
	for next := ""; ; {
		list := l.list()
		opts := []client.ListOption{client.Limit(500)}
		if sel := selectors[schema.GroupKind{Group: k.Group, Kind: k.Kind}]; sel != nil {
			opts = append(opts, client.MatchingLabelsSelector{Selector: sel})
		}
		if next != "" {
			opts = append(opts, client.Continue(next))
		}
		switch err := c.List(ctx, list, opts...); {
		case err == nil:
		case k.Access == state.WatchedIfServed && (meta.IsNoMatchError(err) || apierrors.IsNotFound(err)):
			return nil // the API is not installed: nothing to read
		default:
			return fmt.Errorf("listing %s: %w", k, err)
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			return fmt.Errorf("listing %s: %w", k, err)
		}
		for _, item := range items {
			lean, err := l.lean(item)
			if err != nil {
				return err
			}
			if lean != nil {
				store.Apply(lean)
			}
		}
		if next = list.GetContinue(); next == "" {
			return nil
		}
	}
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
		case "ServiceEntry":
			// An entry a created Service takes its host from may be gone a
			// moment ago (rules.ServiceWrite).
			var se networkingv1.ServiceEntry
			switch err := c.Get(ctx, key, &se); {
			case err == nil:
				found = append(found, &state.Object{ServiceEntry: state.FromServiceEntrySpec(refOf(&se.ObjectMeta), &se.Spec)})
			case apierrors.IsNotFound(err):
				gone = append(gone, r)
			default:
				return nil, nil, fmt.Errorf("reading ServiceEntry %s: %w", key, err)
			}
		case state.KindHTTPRoute, state.KindGRPCRoute:
			// A route the cache still shows attached may be gone a moment ago.
			l := liveKinds[schema.GroupKind{Group: state.GroupGatewayAPI, Kind: r.Kind}]
			u := l.obj()
			switch err := c.Get(ctx, key, u); {
			case err == nil:
				o, err := l.lean(u)
				if err != nil {
					return nil, nil, err
				}
				found = append(found, o)
			case apierrors.IsNotFound(err) || meta.IsNoMatchError(err):
				gone = append(gone, r)
			default:
				return nil, nil, fmt.Errorf("reading %s %s: %w", r.Kind, key, err)
			}
		case "DestinationRule":
			var list networkingv1.DestinationRuleList
			if err := c.List(ctx, &list, client.InNamespace(r.Namespace)); err != nil {
				return nil, nil, fmt.Errorf("listing DestinationRules in %s: %w", r.Namespace, err)
			}
			for _, dr := range list.Items {
				found = append(found, &state.Object{DR: state.FromDestinationRuleSpec(refOf(&dr.ObjectMeta), &dr.Spec)})
			}
		case "ReferenceGrant":
			// A grant created a moment before the route that needs it.
			l := liveKinds[schema.GroupKind{Group: state.GroupGatewayAPI, Kind: "ReferenceGrant"}]
			list := l.list()
			switch err := c.List(ctx, list, client.InNamespace(r.Namespace)); {
			case meta.IsNoMatchError(err):
				continue // not served: there is none
			case err != nil:
				return nil, nil, fmt.Errorf("listing ReferenceGrants in %s: %w", r.Namespace, err)
			}
			items, err := meta.ExtractList(list)
			if err != nil {
				return nil, nil, fmt.Errorf("listing ReferenceGrants in %s: %w", r.Namespace, err)
			}
			for _, item := range items {
				o, err := l.lean(item)
				if err != nil {
					return nil, nil, err
				}
				found = append(found, o)
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
