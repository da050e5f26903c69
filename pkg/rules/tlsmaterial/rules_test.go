package tlsmaterial_test

import (
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/meshguard/meshguard/pkg/config"
	"github.com/meshguard/meshguard/pkg/engine"
	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/rules/registry"
	"github.com/meshguard/meshguard/pkg/rules/rulestest"
	"github.com/meshguard/meshguard/pkg/rules/tlsmaterial"
	"github.com/meshguard/meshguard/pkg/state"
	"github.com/meshguard/meshguard/pkg/trust"
	"github.com/meshguard/meshguard/pkg/trust/trusttest"
)

var (
	meshRoot = trusttest.NewRoot("Istio mesh root")
	regional = trusttest.NewRoot("Regional CA eu-west")
	fleet    = trusttest.NewRoot("Fleet root")
	now      = time.Now()
)

// secret builds the summary the webhook would make of a credential Secret.
func secret(name string, ca []byte, cert, key []byte) (string, *trust.Material) {
	data := map[string][]byte{}
	if ca != nil {
		data["ca.crt"] = ca
	}
	if cert != nil {
		data["tls.crt"], data["tls.key"] = cert, key
	}
	return "shop/" + name, trust.Inspect("Secret shop/"+name, data)
}

type tc struct {
	name    string
	tls     string // the DestinationRule's trafficPolicy.tls as JSON
	host    string
	secrets map[string]*trust.Material
	noRoot  bool
	// brokenRoot: the istio-ca-root-cert ConfigMap's root-cert.pem is empty.
	brokenRoot bool
	anchors    bool
	// bare: the Service's pod runs without a proxy (it presents its own certificate).
	bare bool
	// gateway: the rule has no workloadSelector, so only gateways read its
	// credentialName; "none" routes no gateway to the host, "egress" routes
	// the egress gateway in istio-system to it.
	gateway string
	// update: the rule already stood like this; the write edits it.
	update bool
	want   map[string][]string // rule -> actions
}

// trustReads records what the trust rules read through the state, over
// every case.
var trustReads = rulestest.Reads{}

func judge(t *testing.T, c tc) map[string][]string {
	t.Helper()
	store := mesh.NewStore(mesh.DefaultClusterDomain)
	store.SetNamespace(&state.Namespace{Name: "shop"})
	store.SetService(&state.Service{Namespace: "shop", Name: "reviews", Selector: map[string]string{"app": "reviews"}, Ports: []state.ServicePort{{Name: "https", Port: 443, TargetPort: 8443}}})
	store.SetPod(&state.Pod{Namespace: "shop", Name: "reviews-1", Phase: "Running", Labels: map[string]string{"app": "reviews"}, Sidecar: !c.bare})
	host := c.host
	if host == "" {
		host = "reviews"
	}
	// With a workload selector the sidecars read credentialName in shop.
	dr := &state.DestinationRule{Namespace: "shop", Name: "reviews", Host: host, Created: now,
		WorkloadSelector: map[string]string{"app": "client"}}
	tls := &state.ClientTLS{}
	switch c.tls {
	case "mutual":
		tls.Mode, tls.CredentialName = "MUTUAL", "client-cert"
	case "simple":
		tls.Mode, tls.CredentialName = "SIMPLE", "client-cert"
	case "skip":
		tls.Mode, tls.InsecureSkipVerify = "SIMPLE", true
	case "skip-mutual":
		tls.Mode, tls.CredentialName, tls.InsecureSkipVerify = "MUTUAL", "client-cert", true
	case "cafile":
		tls.Mode, tls.CACertificates = "SIMPLE", "/etc/certs/ca.pem"
	}
	dr.Policy = &state.TrafficPolicy{TLS: tls}
	if c.gateway != "" {
		dr.WorkloadSelector = nil
	}
	if c.gateway == "egress" {
		// Istio's egress TLS origination task: the egress gateway routes to the host.
		store.SetPod(&state.Pod{Namespace: "istio-system", Name: "egressgateway-1", Phase: "Running", Sidecar: true, Router: true,
			Labels: map[string]string{"istio": "egressgateway"}})
		store.SetGateway(&state.Gateway{Namespace: "istio-system", Name: "egress", Selector: map[string]string{"istio": "egressgateway"}})
		store.SetVirtualService(&state.VirtualService{Namespace: "shop", Name: "via-egress", Hosts: []string{host},
			Gateways: []string{"istio-system/egress"}, HTTP: []state.HTTPRoute{{Route: []state.Destination{{Host: host}}}}})
	}
	view := trust.NewView(now)
	for k, m := range c.secrets {
		view.Secrets[k] = m
	}
	if c.brokenRoot {
		view.Roots["shop"] = &trust.Root{Source: "ConfigMap shop/istio-ca-root-cert", Problem: "root-cert.pem holds no certificate"}
	} else if !c.noRoot {
		certs, _ := trust.ParseBundle(meshRoot.PEM)
		view.Roots["shop"] = &trust.Root{Certs: certs, Source: "ConfigMap shop/istio-ca-root-cert"}
	}
	if c.anchors {
		view.Anchors, _ = trust.ParseBundle(fleet.PEM)
	}
	cfg := config.Default()
	e := engine.New(registry.Rules(), cfg)
	e.Watch = trustReads.Watch
	change := &rules.Change{Operation: rules.Create, Ref: state.ObjectRef{Group: state.GroupNetworking, Kind: rules.KindDestinationRule, Namespace: "shop", Name: "reviews"},
		NewDR: dr, Trust: view}
	if c.update {
		old := *dr
		store.SetDestinationRule(&old)
		change.Operation, change.OldDR = rules.Update, &old
	}
	got := map[string][]string{}
	_ = store.View(func(s state.Snapshot) error {
		for _, r := range e.Evaluate(s, change).Results {
			if r.Rule >= "MG401" && r.Rule <= "MG406" {
				a := string(r.Action)
				if r.Preexisting {
					a += " pre-existing"
				}
				got[r.Rule] = append(got[r.Rule], a)
			}
		}
		return nil
	})
	for _, v := range got {
		sort.Strings(v)
	}
	return got
}

func TestTrustRules(t *testing.T) {
	good, goodKey := meshRoot.ValidLeaf("client")
	_, foreignKey := meshRoot.ValidLeaf("other")
	expired, expiredKey := meshRoot.Leaf("old client", now.AddDate(-1, 0, 0), now.AddDate(0, 0, -2))
	future, futureKey := meshRoot.Leaf("early client", now.AddDate(0, 0, 2), now.AddDate(1, 0, 0))
	soon, soonKey := meshRoot.Leaf("expiring client", now.Add(-time.Hour), now.AddDate(0, 0, 12))
	both := append(append([]byte{}, regional.PEM...), meshRoot.PEM...)
	sec := func(ca, cert, key []byte) map[string]*trust.Material {
		k, m := secret("client-cert", ca, cert, key)
		return map[string]*trust.Material{k: m}
	}
	cases := []tc{
		{name: "a credentialName whose Secret is missing is denied", tls: "mutual", want: map[string][]string{"MG401": {"deny"}}},
		{name: "an edit of a rule whose Secret was already missing warns", tls: "mutual", update: true,
			want: map[string][]string{"MG401": {"warn pre-existing"}}},
		{name: "an edit keeping a regional-only bundle warns", tls: "simple", secrets: sec(regional.PEM, nil, nil), update: true,
			want: map[string][]string{"MG402": {"warn pre-existing"}}},
		{name: "an edit keeping an expired client certificate warns", tls: "mutual", secrets: sec(meshRoot.PEM, expired, expiredKey), update: true,
			want: map[string][]string{"MG403": {"warn pre-existing"}}},
		{name: "a gateway routing to the host reads the Secret in its own namespace, where it is missing", tls: "mutual", gateway: "egress",
			secrets: sec(meshRoot.PEM, good, goodKey), want: map[string][]string{"MG401": {"deny"}}},
		{name: "without a gateway routing to the host nothing reads the Secret: a warning, not a denial", tls: "mutual", gateway: "none",
			want: map[string][]string{"MG401": {"warn"}}},
		{name: "a server without a proxy presents its own certificate: its CA need not hold the mesh root", tls: "simple", bare: true,
			secrets: sec(regional.PEM, nil, nil), want: map[string][]string{}},
		{name: "a regional-only CA bundle for an in-mesh host is denied (the outage)", tls: "simple", secrets: sec(regional.PEM, nil, nil),
			want: map[string][]string{"MG402": {"deny"}}},
		{name: "a bundle that includes the mesh root passes", tls: "simple", secrets: sec(both, nil, nil), want: map[string][]string{}},
		{name: "a bundle holding a fleet anchor passes", tls: "simple", secrets: sec(fleet.PEM, nil, nil), anchors: true, want: map[string][]string{}},
		{name: "without a mesh root the bundle cannot be judged", tls: "simple", secrets: sec(regional.PEM, nil, nil), noRoot: true,
			want: map[string][]string{"MG402": {"warn"}}},
		{name: "an empty mesh root is a warning on the rule that uses it, never a failure of the run", tls: "simple", secrets: sec(regional.PEM, nil, nil), brokenRoot: true,
			want: map[string][]string{"MG402": {"warn"}, "MG403": {"warn"}}},
		{name: "an external host is not held to the mesh root", tls: "simple", host: "api.partner.example", secrets: sec(regional.PEM, nil, nil),
			want: map[string][]string{}},
		{name: "a valid client pair passes", tls: "mutual", secrets: sec(meshRoot.PEM, good, goodKey), want: map[string][]string{}},
		{name: "a key that is not the certificate's is denied", tls: "mutual", secrets: sec(meshRoot.PEM, good, foreignKey), want: map[string][]string{"MG403": {"deny"}}},
		{name: "an expired client certificate is denied", tls: "mutual", secrets: sec(meshRoot.PEM, expired, expiredKey), want: map[string][]string{"MG403": {"deny"}}},
		{name: "a certificate not valid yet is denied", tls: "mutual", secrets: sec(meshRoot.PEM, future, futureKey), want: map[string][]string{"MG403": {"deny"}}},
		{name: "a bundle that does not parse is denied", tls: "simple", secrets: sec([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), nil, nil),
			want: map[string][]string{"MG403": {"deny"}}},
		{name: "a certificate expiring within 30 days warns", tls: "mutual", secrets: sec(meshRoot.PEM, soon, soonKey), want: map[string][]string{"MG406": {"warn"}}},
		{name: "insecureSkipVerify warns", tls: "skip", want: map[string][]string{"MG404": {"warn"}}},
		{name: "insecureSkipVerify under MUTUAL warns as well", tls: "skip-mutual", secrets: sec(meshRoot.PEM, good, goodKey),
			want: map[string][]string{"MG404": {"warn"}}},
		{name: "MUTUAL verifies the server too: a regional-only bundle beside a valid client pair is denied", tls: "mutual",
			secrets: sec(regional.PEM, good, goodKey), want: map[string][]string{"MG402": {"deny"}}},
		{name: "a caCertificates file for an in-mesh host warns", tls: "cafile", want: map[string][]string{"MG405": {"warn"}}},
		{name: "a caCertificates file for an external host passes", tls: "cafile", host: "api.partner.example", want: map[string][]string{}},
	}
	fired, passed := map[string]bool{}, map[string]bool{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := judge(t, c)
			for _, r := range tlsmaterial.All() {
				if !slices.Equal(got[r.ID()], c.want[r.ID()]) {
					t.Errorf("%s = %v, want %v", r.ID(), got[r.ID()], c.want[r.ID()])
				}
				if len(c.want[r.ID()]) > 0 {
					fired[r.ID()] = true
				} else {
					passed[r.ID()] = true
				}
			}
		})
	}
	for _, r := range tlsmaterial.All() {
		rulestest.CheckReads(t, r.ID(), trustReads)
		if !fired[r.ID()] || !passed[r.ID()] {
			t.Errorf("%s needs a firing and a passing case", r.ID())
		}
	}
}
