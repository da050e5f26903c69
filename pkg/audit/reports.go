package audit

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"time"

	"github.com/go-logr/logr"
	reportsv1alpha1 "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// ReportName is the name of the Report meshguard keeps in each namespace.
const ReportName = "meshguard"

// ManagedBy labels the Reports meshguard owns; only those are listed,
// updated or deleted.
const managedByLabel, managedBy = "app.kubernetes.io/managed-by", "meshguard"

var reportGVK = reportsv1alpha1.SchemeGroupVersion.WithKind("Report")

// Reports keeps one OpenReports Report per namespace in step with the drift
// audit's findings: created when a namespace has findings, updated when they
// change, deleted when none remain, and never written when nothing changed.
type Reports struct {
	// Client writes Reports; Reader lists the existing ones (uncached: the
	// manager's cache would start a watch on Reports for nothing).
	Client client.Client
	Reader client.Reader
	// Mapper says whether the API server serves the Report CRD.
	Mapper meta.RESTMapper
	Log    logr.Logger
	Now    func() time.Time

	served *bool
}

// AddToScheme registers the Report types on a scheme.
var AddToScheme = reportsv1alpha1.AddToScheme

// result turns one finding into a report result. Timestamp is left zero:
// Sync dates results when they first appear.
func result(f finding) reportsv1alpha1.ReportResult {
	res, sev := reportsv1alpha1.Result("warn"), reportsv1alpha1.ResultSeverity("medium")
	if f.action == rules.Deny {
		res, sev = "fail", "high"
	}
	title := ""
	if e, ok := rules.Lookup(f.rule); ok {
		title = e.Title
	}
	return reportsv1alpha1.ReportResult{
		Source: managedBy, Policy: f.rule, Rule: title, Category: f.ref.Kind, Result: res, Severity: sev,
		Subjects:    []corev1.ObjectReference{{APIVersion: f.ref.Group + "/v1", Kind: f.ref.Kind, Namespace: f.ref.Namespace, Name: f.ref.Name}},
		Description: f.field + ": " + f.message,
		Properties:  map[string]string{"field": f.field},
	}
}

// available reports whether the Report CRD is served, logging only when
// that changes (the CRD may be installed or removed while meshguard runs).
func (r *Reports) available() (bool, error) {
	_, err := r.Mapper.RESTMapping(reportGVK.GroupKind(), reportGVK.Version)
	served := err == nil
	if err != nil && !meta.IsNoMatchError(err) {
		return false, fmt.Errorf("looking up the OpenReports Report CRD: %w", err)
	}
	if r.served == nil || *r.served != served {
		if served {
			r.Log.Info("Publishing audit results as OpenReports Reports", "kind", reportGVK.String())
		} else {
			r.Log.Info("The OpenReports Report CRD is not served; audit results are not published as Reports until it is", "kind", reportGVK.String())
		}
		r.served = &served
	}
	return served, nil
}

// Sync makes the Reports match byNamespace (the findings of one cycle).
func (r *Reports) Sync(ctx context.Context, byNamespace map[string][]finding) error {
	if ok, err := r.available(); !ok {
		return err
	}
	var existing reportsv1alpha1.ReportList
	if err := r.Reader.List(ctx, &existing, client.MatchingLabels{managedByLabel: managedBy}); err != nil {
		return fmt.Errorf("listing Reports: %w", err)
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	stamp := metav1.Timestamp{Seconds: now().Unix()}
	var errs []error
	have := map[string]*reportsv1alpha1.Report{}
	for i := range existing.Items {
		rep := &existing.Items[i]
		if rep.Name != ReportName {
			continue
		}
		have[rep.Namespace] = rep
		if len(byNamespace[rep.Namespace]) == 0 {
			if err := r.Client.Delete(ctx, rep); err != nil && !apierrors.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("deleting Report %s/%s: %w", rep.Namespace, rep.Name, err))
			}
		}
	}
	for _, ns := range sortedNamespaces(byNamespace) {
		results := desiredResults(byNamespace[ns], have[ns], stamp)
		summary := summarise(results)
		cur, ok := have[ns]
		switch {
		case !ok:
			rep := &reportsv1alpha1.Report{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: ReportName, Labels: map[string]string{managedByLabel: managedBy}},
				Source:     managedBy, Summary: summary, Results: results,
			}
			if err := r.Client.Create(ctx, rep); err != nil {
				errs = append(errs, fmt.Errorf("creating Report %s/%s: %w", ns, ReportName, err))
			}
		case !reflect.DeepEqual(cur.Results, results) || cur.Summary != summary:
			cur.Results, cur.Summary = results, summary
			if err := r.Client.Update(ctx, cur); err != nil {
				errs = append(errs, fmt.Errorf("updating Report %s/%s: %w", ns, ReportName, err))
			}
		}
	}
	return errors.Join(errs...)
}

// desiredResults are the results for fs in a stable order, each keeping the
// timestamp it has in cur (when it was first reported) or dated stamp.
func desiredResults(fs []finding, cur *reportsv1alpha1.Report, stamp metav1.Timestamp) []reportsv1alpha1.ReportResult {
	since := map[string]metav1.Timestamp{}
	if cur != nil {
		for _, res := range cur.Results {
			ts := res.Timestamp
			res.Timestamp = metav1.Timestamp{}
			since[fmt.Sprint(res)] = ts
		}
	}
	out := make([]reportsv1alpha1.ReportResult, 0, len(fs))
	for _, f := range fs {
		res := result(f)
		if ts, ok := since[fmt.Sprint(res)]; ok {
			res.Timestamp = ts
		} else {
			res.Timestamp = stamp
		}
		out = append(out, res)
	}
	return out
}

func summarise(results []reportsv1alpha1.ReportResult) reportsv1alpha1.ReportSummary {
	var s reportsv1alpha1.ReportSummary
	for _, res := range results {
		if res.Result == "fail" {
			s.Fail++
		} else {
			s.Warn++
		}
	}
	return s
}

func sortedNamespaces(m map[string][]finding) []string {
	out := make([]string, 0, len(m))
	for ns, fs := range m {
		if len(fs) > 0 {
			out = append(out, ns)
		}
	}
	sort.Strings(out)
	return out
}

// finding is one audit result of a cycle, in the order the cycle found it
// (namespaces sorted, then kind and name).
type finding struct {
	ref         state.ObjectRef
	rule, field string
	message     string
	action      rules.Action
}
