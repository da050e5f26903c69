package namespace_test

import (
	"testing"

	"github.com/meshguard/meshguard/pkg/rules/namespace"
	"github.com/meshguard/meshguard/pkg/rules/rulestest"
)

// Expected findings of each rule on its fixtures, keyed by "scenario ns/name"
// (a Namespace has no namespace: "/name").
var fixtures = map[string]map[string][]string{
	"MG801": {
		"injection /shop (unlabel)":        {`warn metadata.labels "^4 pods of shop (shop/productpage-1, shop/ratings-1, shop/reviews-v1-7f9-a1 and 1 more) start without a sidecar when next restarted (running pods keep theirs: nothing breaks now), under mesh-wide STRICT (PeerAuthentication istio-system/default), which rejects their plaintext calls; STRICT for their own ports (PeerAuthentication shop/ratings-strict) — keep injection until the policy is PERMISSIVE"`},
		"injection /shop (disabled)":       {`warn metadata.labels "^4 pods of shop"`},
		"injection /shop (revision)":       {},
		"injection /shop (relabel)":        {},
		"injection /legacy":                {},
		"workload-strict /payments":        {`warn metadata.labels "^1 pod of payments (payments/ledger-1) start without a sidecar when next restarted (running pods keep theirs: nothing breaks now), under STRICT for their own ports (PeerAuthentication payments/ledger-strict)"`},
		"workload-strict /payments (keep)": {},
	},
	"MG802": {
		"ambient /mesh-apps (unlabel)": {`deny metadata.labels "^without istio.io/dataplane-mode=ambient istio-cni takes 2 pods of mesh-apps (mesh-apps/api-1 (StatefulSet api), mesh-apps/worker-1) out of the mesh at once, and mesh-wide STRICT (PeerAuthentication istio-system/default) rejects the plaintext they then send to meshed servers — enroll them another way first"`},
		"ambient /mesh-apps (none)":    {`warn metadata.labels "— kept out on purpose (istio.io/dataplane-mode=none)"`},
		"ambient /mesh-apps (keep)":    {},
		"permissive /quiet":            {},
		"preexisting /stale":           {`warn pre-existing metadata.labels "^without istio.io/dataplane-mode=ambient istio-cni takes 1 pod of stale (stale/batch-1) out of the mesh at once"`},
	},
}

func TestFixtures(t *testing.T) { rulestest.Package(t, namespace.All(), fixtures) }
