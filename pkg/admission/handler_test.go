package admission_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	mgadmission "github.com/meshguard/meshguard/pkg/admission"
	"github.com/meshguard/meshguard/pkg/config"
	"github.com/meshguard/meshguard/pkg/engine"
	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/rules/registry"
	"github.com/meshguard/meshguard/pkg/state"
)

func newHandler(cfg *config.Config, rs ...rules.Rule) *mgadmission.Handler {
	if rs == nil {
		rs = registry.Rules()
	}
	store := mesh.NewStore(mesh.DefaultClusterDomain)
	store.SetNamespace(&state.Namespace{Name: "legacy"})
	store.SetPod(&state.Pod{Namespace: "legacy", Name: "api-1", Phase: "Running", Sidecar: true, Ports: []state.NamedPort{{Port: 9090}}})
	store.SetPod(&state.Pod{Namespace: "legacy", Name: "reporting-0", Phase: "Running", Ports: []state.NamedPort{{Port: 8080}}})
	return &mgadmission.Handler{Engine: engine.New(rs, cfg), Store: store, Config: cfg, Log: logr.Discard()}
}

// request is a review of object as the API server sends it: its name and
// version are the object's (a test of mismatches sets its own).
func request(op admissionv1.Operation, kind, group, ns, object string) admission.Request {
	r := admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID: "1", Operation: op, Namespace: ns, Name: "default",
		Kind: metav1.GroupVersionKind{Group: group, Version: "v1", Kind: kind},
	}}
	var head struct {
		APIVersion string `json:"apiVersion"`
		Metadata   struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if json.Unmarshal([]byte(object), &head) == nil {
		if head.Metadata.Name != "" {
			r.Name = head.Metadata.Name
		}
		if g, v, ok := strings.Cut(head.APIVersion, "/"); ok && g == group {
			r.Kind.Version = v
		}
	}
	if op == admissionv1.Delete {
		r.OldObject = runtime.RawExtension{Raw: []byte(object)}
	} else {
		r.Object = runtime.RawExtension{Raw: []byte(object)}
	}
	return r
}

const strictLegacy = `{"apiVersion":"security.istio.io/v1","kind":"PeerAuthentication","metadata":{"name":"default","namespace":"legacy"},"spec":{"mtls":{"mode":"STRICT"}}}`

func TestHandler(t *testing.T) {
	cases := []struct {
		name     string
		cfg      *config.Config
		req      admission.Request
		allowed  bool
		code     int32
		message  string // substring of the result message
		warnings []string
	}{
		{name: "namespace STRICT beside an accidental outsider is denied with the finding line",
			req:     request(admissionv1.Create, "PeerAuthentication", "security.istio.io", "legacy", strictLegacy),
			allowed: false, code: http.StatusForbidden,
			message: "[MG101] spec.mtls.mode: STRICT would reject plaintext from 1 pod outside the mesh in legacy that may call its meshed workloads: legacy/reporting-0 — inject or enroll them"},
		{name: "an object that does not decode is denied naming the field",
			req:     request(admissionv1.Create, "PeerAuthentication", "security.istio.io", "legacy", `{"apiVersion":"security.istio.io/v1","kind":"PeerAuthentication","metadata":{"name":"default","namespace":"legacy"},"spec":{"mtls":{"mdoe":"STRICT"}}}`),
			allowed: false, code: http.StatusForbidden, message: `spec: unknown field "mdoe"`},
		{name: "kinds meshguard does not review are allowed",
			req:     request(admissionv1.Create, "RequestAuthentication", "security.istio.io", "legacy", `{}`),
			allowed: true},
		{name: "a PeerAuthentication of another group is not ours",
			req:     request(admissionv1.Create, "PeerAuthentication", "example.com", "legacy", `{}`),
			allowed: true},
		{name: "excluded namespaces are not reviewed",
			cfg:     &config.Config{RootNamespace: "istio-system", ExcludedNamespaces: []string{"legacy"}},
			req:     request(admissionv1.Create, "PeerAuthentication", "security.istio.io", "legacy", strictLegacy),
			allowed: true},
		{name: "DestinationRules decode and pass while no rule reviews them",
			req:     request(admissionv1.Create, "DestinationRule", "networking.istio.io", "legacy", `{"apiVersion":"networking.istio.io/v1alpha3","kind":"DestinationRule","metadata":{"name":"r","namespace":"legacy"},"spec":{"host":"reviews","subsets":[{"name":"v1","labels":{"version":"v1"}}]}}`),
			allowed: true},
		{name: "a broken DestinationRule is denied naming the field",
			req:     request(admissionv1.Create, "DestinationRule", "networking.istio.io", "legacy", `{"apiVersion":"networking.istio.io/v1","kind":"DestinationRule","metadata":{"name":"r","namespace":"legacy"},"spec":{"hots":"reviews"}}`),
			allowed: false, message: `unknown field "hots"`},
		{name: "break-glass groups are admitted with a warning",
			cfg: &config.Config{RootNamespace: "istio-system", BreakGlassGroups: []string{"oncall"}},
			req: func() admission.Request {
				r := request(admissionv1.Create, "PeerAuthentication", "security.istio.io", "legacy", strictLegacy)
				r.UserInfo = authenticationv1.UserInfo{Username: "alice", Groups: []string{"system:authenticated", "oncall"}}
				return r
			}(),
			allowed: true, warnings: []string{"[meshguard] break-glass: admitted without review for group oncall; run `meshguard check` on it"}},
		{name: "a rule set to warn in the config warns instead of denying",
			cfg:     &config.Config{RootNamespace: "istio-system", Rules: map[string]config.Enforcement{"MG101": config.EnforceWarn}},
			req:     request(admissionv1.Create, "PeerAuthentication", "security.istio.io", "legacy", strictLegacy),
			allowed: true},
		{name: "a rule turned off says nothing",
			cfg:     &config.Config{RootNamespace: "istio-system", Rules: map[string]config.Enforcement{"MG101": config.EnforceOff, "MG102": config.EnforceOff, "MG108": config.EnforceOff}},
			req:     request(admissionv1.Create, "PeerAuthentication", "security.istio.io", "legacy", strictLegacy),
			allowed: true, warnings: []string{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := c.cfg
			if cfg == nil {
				cfg = config.Default()
			}
			resp := newHandler(cfg).Handle(context.Background(), c.req)
			if resp.Allowed != c.allowed {
				t.Fatalf("allowed = %v, want %v (%+v)", resp.Allowed, c.allowed, resp.Result)
			}
			if c.code != 0 && resp.Result.Code != c.code {
				t.Errorf("code = %d, want %d", resp.Result.Code, c.code)
			}
			if c.message != "" && (resp.Result == nil || !strings.Contains(resp.Result.Message, c.message)) {
				t.Errorf("message = %+v, want it to contain %q", resp.Result, c.message)
			}
			if c.warnings != nil && strings.Join(resp.Warnings, "|") != strings.Join(c.warnings, "|") {
				t.Errorf("warnings = %q, want %q", resp.Warnings, c.warnings)
			}
			if c.allowed && c.name == "a rule set to warn in the config warns instead of denying" &&
				(len(resp.Warnings) == 0 || !strings.HasPrefix(resp.Warnings[0], "[MG101] ")) {
				t.Errorf("want MG101 as a warning, got %q", resp.Warnings)
			}
		})
	}
}

type panicking struct{}

func (panicking) ID() string                         { return "MG999" }
func (panicking) Reads() []state.Kind                { return nil }
func (panicking) Kind() string                       { return rules.KindPeerAuthentication }
func (panicking) Check(*rules.Input) []rules.Finding { panic("index out of range") }

func TestInternalFaultIsA500NotADenial(t *testing.T) {
	h := newHandler(config.Default(), panicking{})
	resp := h.Handle(context.Background(), request(admissionv1.Create, "PeerAuthentication", "security.istio.io", "legacy", strictLegacy))
	if resp.Allowed || resp.Result.Code != http.StatusInternalServerError || !strings.HasPrefix(resp.Result.Message, "internal error: ") {
		t.Fatalf("want a 500 internal error, got %+v", resp.Result)
	}
}

func TestNotSyncedIsAnInternalError(t *testing.T) {
	h := newHandler(config.Default())
	h.Synced = func() bool { return false }
	resp := h.Handle(context.Background(), request(admissionv1.Create, "PeerAuthentication", "security.istio.io", "legacy", strictLegacy))
	if resp.Result.Code != http.StatusInternalServerError || !strings.Contains(resp.Result.Message, "not synced") {
		t.Fatalf("got %+v", resp.Result)
	}
}

func TestWarningsStayWithinTheAPIServerBudget(t *testing.T) {
	var v engine.Verdict
	for i := 0; i < 15; i++ {
		v.Results = append(v.Results, engine.Result{Finding: rules.Finding{Rule: "MG102", Action: rules.Warn,
			Message: strings.Repeat("word ", 40) + "\nsecond line"}})
	}
	v.Results = append(v.Results, engine.Result{Finding: rules.Finding{Rule: "MG101", Action: rules.Deny, Field: "spec.mtls.mode", Message: "m"}})
	denial, warnings := mgadmission.Render(v)
	if denial != "[MG101] spec.mtls.mode: m" {
		t.Errorf("denial = %q", denial)
	}
	if len(warnings) != 10 {
		t.Errorf("%d warnings, want at most 10", len(warnings))
	}
	total := 0
	for _, w := range warnings {
		total += len(w)
		if strings.ContainsAny(w, "\n\r") || len([]rune(w)) > 120 || !strings.HasPrefix(w, "[MG102] ") {
			t.Errorf("malformed warning %q", w)
		}
	}
	if total > 4096 {
		t.Errorf("warnings take %d bytes, over the 4096 budget", total)
	}
}

func TestAbsenceIsConfirmedBeforeDenying(t *testing.T) {
	h := newHandler(config.Default())
	// Sidecars call reviews; the route sends them to late, whose pods are
	// cached but whose Service was created a moment ago and is not.
	h.Store.SetService(&state.Service{Namespace: "legacy", Name: "reviews", Selector: map[string]string{"app": "reviews"},
		Ports: []state.ServicePort{{Name: "http", Port: 80, TargetPort: 8080}}})
	h.Store.SetPod(&state.Pod{Namespace: "legacy", Name: "reviews-1", Phase: "Running", Ready: true, Sidecar: true, Labels: map[string]string{"app": "reviews"}})
	h.Store.SetPod(&state.Pod{Namespace: "legacy", Name: "late-1", Phase: "Running", Ready: true, Sidecar: true, Labels: map[string]string{"app": "late"}})
	vs := `{"apiVersion":"networking.istio.io/v1","kind":"VirtualService","metadata":{"name":"late","namespace":"legacy"},"spec":{"hosts":["reviews"],"http":[{"route":[{"destination":{"host":"late"}}]}]}}`
	req := request(admissionv1.Create, "VirtualService", "networking.istio.io", "legacy", vs)

	resp := h.Handle(context.Background(), req)
	if resp.Allowed || !strings.Contains(resp.Result.Message, "[MG303]") {
		t.Fatalf("without a confirming read the missing Service denies: %+v", resp.Result)
	}

	var asked []state.ObjectRef
	h.Confirm = func(_ context.Context, refs []state.ObjectRef) ([]*state.Object, []state.ObjectRef, error) {
		asked = refs
		return []*state.Object{{Service: &state.Service{Namespace: "legacy", Name: "late", Selector: map[string]string{"app": "late"},
			Ports: []state.ServicePort{{Name: "http", Port: 80, TargetPort: 8080}}}}}, nil, nil
	}
	resp = h.Handle(context.Background(), req)
	if !resp.Allowed {
		t.Fatalf("the Service exists on the API server, so the write is allowed: %+v", resp.Result)
	}
	if len(asked) != 1 || asked[0].Kind != "Service" || asked[0].Name != "late" {
		t.Errorf("confirmed %+v, want the Service legacy/late", asked)
	}
}

func TestStaleRouteIsReReadBeforeDenying(t *testing.T) {
	h := newHandler(config.Default())
	h.Store.SetService(&state.Service{Namespace: "legacy", Name: "reviews", Selector: map[string]string{"app": "reviews"},
		Ports: []state.ServicePort{{Name: "http", Port: 9080, TargetPort: 9080}}})
	h.Store.SetPod(&state.Pod{Namespace: "legacy", Name: "reviews-v1", Phase: "Running", Ready: true, Sidecar: true,
		Labels: map[string]string{"app": "reviews", "version": "v1"}, Ports: []state.NamedPort{{Port: 9080}}})
	h.Store.SetPod(&state.Pod{Namespace: "legacy", Name: "client", Phase: "Running", Ready: true, Sidecar: true})
	h.Store.SetDestinationRule(&state.DestinationRule{Namespace: "legacy", Name: "reviews", Host: "reviews",
		Subsets: []state.Subset{{Name: "v1", Labels: map[string]string{"version": "v1"}}}})
	// The cache still holds a route to v1 that the user deleted a moment ago.
	h.Store.SetVirtualService(&state.VirtualService{Namespace: "legacy", Name: "reviews", Hosts: []string{"reviews"},
		HTTP: []state.HTTPRoute{{Route: []state.Destination{{Host: "reviews", Subset: "v1"}}}}})
	old := `{"apiVersion":"networking.istio.io/v1","kind":"DestinationRule","metadata":{"name":"reviews","namespace":"legacy"},"spec":{"host":"reviews","subsets":[{"name":"v1","labels":{"version":"v1"}}]}}`
	req := request(admissionv1.Delete, "DestinationRule", "networking.istio.io", "legacy", old)
	req.Name = "reviews"

	if resp := h.Handle(context.Background(), req); resp.Allowed || !strings.Contains(resp.Result.Message, "[MG204]") {
		t.Fatalf("with the cache as it is, MG204 denies: %+v", resp.Result)
	}
	h.Confirm = func(_ context.Context, refs []state.ObjectRef) ([]*state.Object, []state.ObjectRef, error) {
		return nil, refs, nil // the API server no longer has the VirtualService
	}
	if resp := h.Handle(context.Background(), req); !resp.Allowed {
		t.Fatalf("the route is gone on the API server, so the delete is allowed: %+v", resp.Result)
	}
}
