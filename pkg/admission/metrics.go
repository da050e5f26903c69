package admission

import (
	"slices"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/meshguard/meshguard/pkg/config"
	"github.com/meshguard/meshguard/pkg/state"
)

var (
	reviews = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "meshguard_admission_reviews_total",
		Help: "Admission reviews answered, by kind, operation, decision (allowed, denied, would_deny under enforcement: warn, error) and dry run.",
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
var reviewedKinds = state.ReviewedKinds()

func kindLabel(kind string) string {
	if slices.Contains(reviewedKinds, kind) {
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
	metrics.Registry.MustRegister(reviews, findings, duration, rejected, costlyWaiting, excepted, exceptionMetrics)
}

// excepted counts the findings each configured exception let through.
var excepted = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "meshguard_exception_findings_total",
	Help: "Findings a configured exception let through in admission reviews, by exception.",
}, []string{"exception"})

// exceptionSource is what the exceptions collector reports: the serving
// configuration's exceptions and the clock they expire by.
type exceptionSource struct {
	exceptions []config.Exception
	now        func() time.Time
}

// exceptionsCollector reports each configured exception's state and expiry
// at scrape time, so that an exception shows as expired the moment it is,
// with no review needed to notice.
type exceptionsCollector struct {
	src   atomic.Pointer[exceptionSource]
	state *prometheus.Desc
	until *prometheus.Desc
}

var exceptionMetrics = &exceptionsCollector{
	state: prometheus.NewDesc("meshguard_exceptions", "Configured exceptions, by name and state (active or expired): 1 for the state it is in.",
		[]string{"name", "state"}, nil),
	until: prometheus.NewDesc("meshguard_exception_expiry_timestamp_seconds", "When each configured exception stops applying (Unix time).",
		[]string{"name"}, nil),
}

// ReportExceptions makes the exceptions metrics describe cfg's exceptions,
// expiring by now (nil: time.Now). The webhook calls it once it is
// configured.
func ReportExceptions(cfg *config.Config, now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	exceptionMetrics.src.Store(&exceptionSource{exceptions: cfg.Exceptions, now: now})
}

func (c *exceptionsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.state
	ch <- c.until
}

func (c *exceptionsCollector) Collect(ch chan<- prometheus.Metric) {
	src := c.src.Load()
	if src == nil {
		return
	}
	now := src.now()
	for i := range src.exceptions {
		e := &src.exceptions[i]
		state := "expired"
		if e.Live(now) {
			state = "active"
		}
		ch <- prometheus.MustNewConstMetric(c.state, prometheus.GaugeValue, 1, e.Name, state)
		ch <- prometheus.MustNewConstMetric(c.until, prometheus.GaugeValue, float64(e.Until().Unix()), e.Name)
	}
}
