package admission

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	reviews = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "meshguard_admission_reviews_total",
		Help: "Admission reviews answered, by kind, operation, decision (allowed, denied, error) and dry run.",
	}, []string{"kind", "operation", "decision", "dry_run"})
	findings = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "meshguard_rule_findings_total",
		Help: "Findings reported in admission reviews, by rule and action (deny or warn).",
	}, []string{"rule", "action"})
	duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "meshguard_review_duration_seconds",
		Help:    "Time to decode, evaluate and render one admission review.",
		Buckets: []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5},
	}, []string{"kind"})
)

// kindLabel and operationLabel keep metric labels to a fixed set: values
// copied from requests would let anyone who reaches the port create series
// without bound.
func kindLabel(kind string) string {
	if _, ok := reviewedGroups[kind]; ok {
		return kind
	}
	return "other"
}

func operationLabel(op string) string {
	switch op {
	case "CREATE", "UPDATE", "DELETE", "CONNECT":
		return op
	}
	return "other"
}

func init() {
	metrics.Registry.MustRegister(reviews, findings, duration, rejected)
}
