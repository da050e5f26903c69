package engine_test

import (
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/meshguard/meshguard/pkg/config"
	"github.com/meshguard/meshguard/pkg/engine"
	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// judgeWith evaluates an UPDATE of PeerAuthentication ns/name, on which the
// scripted rule reports f, under the configuration body at now.
func judgeWith(t *testing.T, body, ns, name string, now time.Time, f rules.Finding) engine.Verdict {
	t.Helper()
	return judgeAs(t, body, nil, ns, name, now, f)
}

// judgeAs is judgeWith for a write requested by who (nil: none, as in check).
func judgeAs(t *testing.T, body string, who *config.Requester, ns, name string, now time.Time, f rules.Finding) engine.Verdict {
	t.Helper()
	cfg := config.Default()
	if err := yaml.UnmarshalStrict([]byte(body), cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.ValidateAt(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	e := engine.New([]rules.Rule{scripted{after: []rules.Finding{f}}}, cfg)
	e.Now = func() time.Time { return now }
	pa := &state.PeerAuthentication{Namespace: ns, Name: name}
	change := &rules.Change{Operation: rules.Update, Ref: state.ObjectRef{Kind: rules.KindPeerAuthentication, Namespace: ns, Name: name}, OldPA: pa, NewPA: pa, Requester: who}
	var v engine.Verdict
	_ = state.NewStore(mesh.Classify).View(func(s state.Snapshot) error { v = e.Evaluate(s, change); return nil })
	return v
}

const exceptionConfig = `
exceptions:
- name: payments-window
  rules: [MG999]
  namespaces: ["pay*"]
  reason: INC-4411
  expires: "2027-01-31"
`

func TestExceptionsLetFindingsThroughUntilTheyExpire(t *testing.T) {
	live := time.Date(2027, 1, 31, 23, 0, 0, 0, time.UTC)
	expired := time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC)

	v := judgeWith(t, exceptionConfig, "payments", "default", live, deny("mesh"))
	if v.Denied() || len(v.Results) != 1 {
		t.Fatalf("live exception: want one warning, got %+v", v.Results)
	}
	if r := v.Results[0]; r.Action != rules.Warn || r.Exception != "payments-window" || r.Message != "excepted by payments-window until 2027-01-31: m" {
		t.Errorf("live exception: got %+v", r)
	}

	v = judgeWith(t, exceptionConfig, "payments", "default", expired, deny("mesh"))
	if !v.Denied() || len(v.Results) != 2 {
		t.Fatalf("expired exception: want the deny and a warning, got %+v", v.Results)
	}
	if r := v.Results[1]; r.Action != rules.Warn || !strings.Contains(r.Message, "exception payments-window expired 2027-01-31 and no longer applies") {
		t.Errorf("expired exception: got %+v", r)
	}

	v = judgeWith(t, exceptionConfig, "billing", "default", live, deny("mesh"))
	if !v.Denied() || len(v.Results) != 1 || v.Results[0].Exception != "" {
		t.Errorf("another namespace: want the plain deny, got %+v", v.Results)
	}
}

func TestEnforcementWarnTurnsDeniesIntoWouldDeny(t *testing.T) {
	now := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	v := judgeWith(t, "enforcement: warn\n", "billing", "default", now, deny("mesh"))
	if v.Denied() || len(v.Results) != 1 {
		t.Fatalf("want one warning, got %+v", v.Results)
	}
	if r := v.Results[0]; !r.WouldDeny || r.Message != "would deny (enforcement: warn): m" {
		t.Errorf("got %+v", r)
	}
	warn := rules.Finding{Rule: "MG999", Action: rules.Warn, Field: "f", Message: "w"}
	if r := judgeWith(t, "enforcement: warn\n", "billing", "default", now, warn).Results[0]; r.WouldDeny || r.Message != "w" {
		t.Errorf("a warning stays as it is under enforcement: warn: %+v", r)
	}
	// An excepted finding is not a would-deny: the exception decided.
	v = judgeWith(t, "enforcement: warn\n"+exceptionConfig, "payments", "default", now, deny("mesh"))
	if r := v.Results[0]; r.WouldDeny || r.Exception != "payments-window" {
		t.Errorf("excepted under enforcement: warn: %+v", r)
	}
}

// An exception limited to a controller's service account lets that
// controller's write through and judges anyone else's, and a write without a
// requester (check, audit); an expired one is reported only to those it
// would have covered.
func TestExceptionsLimitedToSubjects(t *testing.T) {
	body := `
exceptions:
- name: net-istio
  rules: [MG999]
  serviceAccounts: [knative-serving/controller]
  reason: the controller writes its VirtualService before the DestinationRule it needs
  expires: "2027-01-31"
`
	controller := &config.Requester{Username: "system:serviceaccount:knative-serving:controller", Groups: []string{"system:serviceaccounts"}}
	person := &config.Requester{Username: "alice", Groups: []string{"system:authenticated"}}
	live := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	if v := judgeAs(t, body, controller, "shop", "default", live, deny("k")); v.Denied() || v.Results[0].Exception != "net-istio" {
		t.Errorf("the controller's write: %+v", v.Results)
	}
	for _, who := range []*config.Requester{person, nil} {
		if v := judgeAs(t, body, who, "shop", "default", live, deny("k")); !v.Denied() || len(v.Results) != 1 {
			t.Errorf("requested by %+v: want the deny alone, got %+v", who, v.Results)
		}
	}
	expired := time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC)
	if v := judgeAs(t, body, person, "shop", "default", expired, deny("k")); len(v.Results) != 1 {
		t.Errorf("an expired exception for someone else is no news to this requester: %+v", v.Results)
	}
	if v := judgeAs(t, body, controller, "shop", "default", expired, deny("k")); !v.Denied() || len(v.Results) != 2 {
		t.Errorf("the controller's write after expiry: want the deny and the lapsed warning, got %+v", v.Results)
	}
}
