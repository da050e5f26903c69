package engine_test

import (
	"testing"

	"github.com/meshguard/meshguard/pkg/config"
	"github.com/meshguard/meshguard/pkg/engine"
	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// scripted returns fixed findings per phase.
type scripted struct {
	before, after []rules.Finding
}

func (scripted) ID() string          { return "MG999" }
func (scripted) Reads() []state.Kind { return nil }
func (scripted) Kind() string        { return rules.KindPeerAuthentication }
func (s scripted) Check(in *rules.Input) []rules.Finding {
	if in.Phase == rules.Before {
		return s.before
	}
	return s.after
}

func deny(key string, subjects ...string) rules.Finding {
	return rules.Finding{Rule: "MG999", Action: rules.Deny, Field: "spec.mtls.mode", Key: key, Subjects: subjects, Message: "m"}
}

func TestIntroducedFindingsDenyPreexistingOnesWarn(t *testing.T) {
	cases := []struct {
		name        string
		rule        scripted
		cfg         map[string]config.Enforcement
		denied      bool
		preexisting bool
	}{
		{name: "a problem absent before is introduced and denies",
			rule: scripted{after: []rules.Finding{deny("mesh", "legacy")}}, denied: true},
		{name: "the same problem before and after is pre-existing and warns",
			rule: scripted{before: []rules.Finding{deny("mesh", "legacy")}, after: []rules.Finding{deny("mesh", "legacy")}}, preexisting: true},
		{name: "a problem that reaches a new namespace is introduced",
			rule: scripted{before: []rules.Finding{deny("mesh", "legacy")}, after: []rules.Finding{deny("mesh", "legacy", "batch")}}, denied: true},
		{name: "a problem that shrinks is still pre-existing",
			rule: scripted{before: []rules.Finding{deny("mesh", "legacy", "batch")}, after: []rules.Finding{deny("mesh", "legacy")}}, preexisting: true},
		{name: "a problem with another key is introduced",
			rule: scripted{before: []rules.Finding{deny("legacy")}, after: []rules.Finding{deny("batch")}}, denied: true},
		{name: "a rule configured to warn never denies",
			rule: scripted{after: []rules.Finding{deny("mesh")}}, cfg: map[string]config.Enforcement{"MG999": config.EnforceWarn}},
		{name: "a warning rule configured to deny denies",
			rule: scripted{after: []rules.Finding{{Rule: "MG999", Action: rules.Warn, Field: "f", Message: "m"}}},
			cfg:  map[string]config.Enforcement{"MG999": config.EnforceDeny}, denied: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.Rules = c.cfg
			e := engine.New([]rules.Rule{c.rule}, cfg)
			store := state.NewStore(mesh.Classify)
			change := &rules.Change{Operation: rules.Update, Ref: state.ObjectRef{Kind: rules.KindPeerAuthentication, Namespace: "istio-system", Name: "default"},
				OldPA: &state.PeerAuthentication{Namespace: "istio-system", Name: "default"}, NewPA: &state.PeerAuthentication{Namespace: "istio-system", Name: "default"}}
			var v engine.Verdict
			_ = store.View(func(s state.Snapshot) error { v = e.Evaluate(s, change); return nil })
			if v.Denied() != c.denied {
				t.Errorf("denied = %v, want %v (%+v)", v.Denied(), c.denied, v.Results)
			}
			if len(v.Results) != 1 || v.Results[0].Preexisting != c.preexisting {
				t.Errorf("results = %+v, want one with preexisting=%v", v.Results, c.preexisting)
			}
		})
	}
}

func TestRulesTurnedOffDoNotRun(t *testing.T) {
	cfg := config.Default()
	cfg.Rules = map[string]config.Enforcement{"MG999": config.EnforceOff}
	e := engine.New([]rules.Rule{scripted{after: []rules.Finding{deny("x")}}}, cfg)
	if e.Handles(rules.KindPeerAuthentication) {
		t.Error("an engine whose only rule is off reviews nothing")
	}
}
