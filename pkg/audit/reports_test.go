package audit

import (
	"context"
	"testing"
	"time"

	"github.com/go-logr/logr"
	reportsv1alpha1 "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

func newReports(t *testing.T, served bool) (*Reports, client.Client, *time.Time) {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	mapper := meta.NewDefaultRESTMapper([]schema.GroupVersion{reportGVK.GroupVersion()})
	if served {
		mapper.Add(reportGVK, meta.RESTScopeNamespace)
	}
	c := fake.NewClientBuilder().WithScheme(scheme).Build()
	now := time.Unix(1_700_000_000, 0)
	return &Reports{Client: c, Reader: c, Mapper: mapper, Log: logr.Discard(), Now: func() time.Time { return now }}, c, &now
}

func canaryFinding(rule string, action rules.Action, msg string) finding {
	return finding{ref: state.ObjectRef{Group: state.GroupNetworking, Kind: rules.KindVirtualService, Namespace: "shop", Name: "reviews"},
		rule: rule, field: "spec.http[0].route[1]", message: msg, action: action}
}

func getReport(t *testing.T, c client.Client, ns string) (*reportsv1alpha1.Report, bool) {
	t.Helper()
	var rep reportsv1alpha1.Report
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: ReportName}, &rep); err != nil {
		return nil, false
	}
	return &rep, true
}

func TestReportsFollowTheFindings(t *testing.T) {
	r, c, now := newReports(t, true)
	ctx := context.Background()
	dead := canaryFinding("MG302", rules.Deny, "subset v2 has no ready pod")
	if err := r.Sync(ctx, map[string][]finding{"shop": {dead}}); err != nil {
		t.Fatal(err)
	}
	rep, ok := getReport(t, c, "shop")
	if !ok || len(rep.Results) != 1 || rep.Summary.Fail != 1 || rep.Labels[managedByLabel] != managedBy {
		t.Fatalf("want a labelled Report with one failing result, got %+v", rep)
	}
	res := rep.Results[0]
	if res.Policy != "MG302" || res.Result != "fail" || res.Subjects[0].Name != "reviews" || res.Description != "spec.http[0].route[1]: subset v2 has no ready pod" {
		t.Errorf("unexpected result %+v", res)
	}
	created := rep.Results[0].Timestamp

	// The same findings later: nothing is written.
	*now = now.Add(time.Minute)
	if err := r.Sync(ctx, map[string][]finding{"shop": {dead}}); err != nil {
		t.Fatal(err)
	}
	if again, _ := getReport(t, c, "shop"); again.ResourceVersion != rep.ResourceVersion {
		t.Error("the Report was rewritten although nothing changed")
	}

	// A second finding: updated, the first keeps the time it was first seen.
	retries := canaryFinding("MG306", rules.Warn, "5 retry attempts")
	if err := r.Sync(ctx, map[string][]finding{"shop": {dead, retries}}); err != nil {
		t.Fatal(err)
	}
	rep, _ = getReport(t, c, "shop")
	if len(rep.Results) != 2 || rep.Summary.Fail != 1 || rep.Summary.Warn != 1 {
		t.Fatalf("want one fail and one warn, got %+v", rep.Summary)
	}
	if rep.Results[0].Timestamp != created || rep.Results[1].Timestamp.Seconds != now.Unix() {
		t.Errorf("timestamps: want %v kept and %d for the new one, got %v, %v", created, now.Unix(), rep.Results[0].Timestamp, rep.Results[1].Timestamp)
	}

	// No findings left: the Report goes; Reports meshguard does not own stay.
	foreign := &reportsv1alpha1.Report{}
	foreign.Namespace, foreign.Name = "shop", "kyverno-scan"
	if err := c.Create(ctx, foreign); err != nil {
		t.Fatal(err)
	}
	if err := r.Sync(ctx, map[string][]finding{}); err != nil {
		t.Fatal(err)
	}
	if _, ok := getReport(t, c, "shop"); ok {
		t.Error("an empty Report must be deleted")
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(foreign), &reportsv1alpha1.Report{}); err != nil {
		t.Errorf("a Report meshguard does not own was touched: %v", err)
	}
}

func TestReportsSkippedWhileTheCRDIsNotServed(t *testing.T) {
	r, c, _ := newReports(t, false)
	if err := r.Sync(context.Background(), map[string][]finding{"shop": {canaryFinding("MG302", rules.Deny, "m")}}); err != nil {
		t.Fatalf("a missing CRD is not an error: %v", err)
	}
	if _, ok := getReport(t, c, "shop"); ok {
		t.Error("a Report was written although the CRD is not served")
	}
}
