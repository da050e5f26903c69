package audit

import (
	"slices"
	"testing"
	"time"

	"github.com/meshguard/meshguard/pkg/check"
	"github.com/meshguard/meshguard/pkg/config"
	"github.com/meshguard/meshguard/pkg/report"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
	"github.com/meshguard/meshguard/pkg/state/manifest"
)

// Every reviewed kind is either judged as it stands or says why not, so a
// kind added to state.Kinds cannot slip past audit unnoticed.
func TestEveryReviewedKindIsJudgedOrSaysWhy(t *testing.T) {
	for _, k := range state.ReviewedKinds() {
		in, why := slices.Contains(judged, k), notJudged[k]
		if in == (why != "") {
			t.Errorf("%s: judged %v, reason %q: want exactly one", k, in, why)
		}
	}
	for k := range notJudged {
		if !slices.Contains(state.ReviewedKinds(), k) {
			t.Errorf("notJudged names %s, which is no reviewed kind", k)
		}
	}
}

func TestStandingFaultsAreReportedWhereTheirRuleExplainsThem(t *testing.T) {
	docs, err := manifest.ReadFiles([]string{"testdata/standing.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	sess := check.NewSession(cfg, func() time.Time { return time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) })
	for _, d := range docs {
		sess.AddState(d.Object)
	}
	rep := Run(sess, cfg, nil)
	has := func(kind, name, rule string, action rules.Action) bool {
		return slices.ContainsFunc(rep.Findings, func(f report.Finding) bool {
			return f.Kind == kind && f.Name == name && f.Rule == rule && f.Action == string(action)
		})
	}
	if !has(rules.KindVirtualService, "front", "MG304", rules.Deny) {
		t.Errorf("the route to a port productpage lacks: want MG304 on VirtualService shop/front, got %+v", rep.Findings)
	}
	if !has(rules.KindPeerAuthentication, "default", "MG101", rules.Deny) {
		t.Errorf("billing-0 outside the mesh under mesh-wide STRICT: want MG101 on the policy, got %+v", rep.Findings)
	}
	for _, f := range rep.Findings {
		if f.Kind == rules.KindService || f.Kind == rules.KindNamespace || f.Kind == rules.KindSidecar {
			t.Errorf("a %s judged as it stands: %+v", f.Kind, f)
		}
		if f.Operation != Operation {
			t.Errorf("operation %q, want %s", f.Operation, Operation)
		}
	}
	// forEachObject lists only the judged kinds.
	_ = sess.Store().View(func(s state.Snapshot) error {
		forEachObject(s, cfg, nil, func(o *state.Object) {
			if !slices.Contains(judged, o.Ref.ReviewKind()) {
				t.Errorf("forEachObject lists %s, which is not judged", o.Ref)
			}
		})
		return nil
	})
	if !rep.Denied {
		t.Error("denied = false with deny findings")
	}
}
