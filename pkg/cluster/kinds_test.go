package cluster

import (
	"slices"
	"testing"

	istioscheme "istio.io/client-go/pkg/clientset/versioned/scheme"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/meshguard/meshguard/pkg/state"
)

// Every kind the webhook watches has a live reader whose typed object and
// list are of that kind, in a version the table lists; kinds read on demand
// have none (they are never listed or watched), and no reader is left over
// for a kind the table dropped.
func TestLiveReadersCoverTheWatchedKinds(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := istioscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	for _, k := range state.Kinds {
		gk := schema.GroupKind{Group: k.Group, Kind: k.Kind}
		l, ok := liveKinds[gk]
		if k.Access == state.OnDemand {
			if ok {
				t.Errorf("%s is read on demand; it must have no informer or listing", k)
			}
			continue
		}
		if !ok {
			t.Errorf("%s is watched but has no live reader in liveKinds", k)
			continue
		}
		if !slices.Contains(k.Versions, l.version) {
			t.Errorf("%s is read live as %s, not a version the table lists (%v)", k, l.version, k.Versions)
		}
		for i, obj := range []runtime.Object{l.obj(), l.list()} {
			gvk, err := apiutil.GVKForObject(obj, scheme)
			if err != nil {
				t.Errorf("%s: %v", k, err)
				continue
			}
			want := gk.WithVersion(l.version)
			if i == 1 {
				want.Kind += "List"
			}
			if gvk != want {
				t.Errorf("%s: reader's %T is %s, want %s", k, obj, gvk, want)
			}
		}
	}
	for gk := range liveKinds {
		if _, ok := state.KindOf(gk.Group, gk.Kind); !ok {
			t.Errorf("live reader for %s, a kind the table does not list", gk)
		}
	}
}
