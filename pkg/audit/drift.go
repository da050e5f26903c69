package audit

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/meshguard/meshguard/pkg/config"
	"github.com/meshguard/meshguard/pkg/engine"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
	"github.com/meshguard/meshguard/pkg/trust"
)

var (
	violations = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "meshguard_audit_violations",
		Help: "Objects in violation of a deny rule as they stand, by rule, kind and namespace (the drift audit).",
	}, []string{"rule", "kind", "namespace"})
	auditDuration = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "meshguard_audit_duration_seconds",
		Help: "Duration of the last drift audit cycle.",
	})
	lastSuccess = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "meshguard_audit_last_success_timestamp_seconds",
		Help: "Unix time the last drift audit cycle completed.",
	})
)

func init() { metrics.Registry.MustRegister(violations, auditDuration, lastSuccess) }

// Events is what the drift loop needs to tell an object's owners: the events
// recorder of controller-runtime (events.k8s.io).
type Events interface {
	Eventf(regarding runtime.Object, related runtime.Object, eventtype, reason, action, note string, args ...interface{})
}

// Drift re-runs the audit on the live store every Interval, so that an object
// admitted as safe and made dangerous later without any Istio write (the
// canary's pods crash, a sidecar-less pod lands in a STRICT namespace) is
// reported: metrics every cycle, a Warning event on the object when it enters
// violation and a Normal "Resolved" one when it leaves, and (with Reports)
// every finding in its namespace's Report. Only the leader runs it.
type Drift struct {
	Store    *state.Store
	Engine   *engine.Engine
	Config   *config.Config
	Interval time.Duration
	// Reader fetches an object (for its UID) when an event is due.
	Reader client.Reader
	Events Events
	// Trust reads the Secrets and root ConfigMaps the trust rules need, one
	// at a time and uncached (nil: trust rules are not judged).
	Trust engine.TrustFetcher
	// Reports, when set, publishes the results as OpenReports Reports.
	Reports *Reports
	Log     logr.Logger

	// previous holds the deny findings of the last cycle, by object and rule.
	previous map[violationKey]string
}

type violationKey struct {
	ref  state.ObjectRef
	rule string
}

// NeedLeaderElection: only the leader audits and publishes.
func (d *Drift) NeedLeaderElection() bool { return true }

// Start runs the loop until ctx ends.
func (d *Drift) Start(ctx context.Context) error {
	t := time.NewTicker(d.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		d.Cycle(ctx)
	}
}

// Cycle audits once and publishes what changed.
func (d *Drift) Cycle(ctx context.Context) {
	start := time.Now()
	view, err := d.trust(ctx)
	if err != nil {
		// Without the material the trust rules would judge against nothing;
		// the cycle fails rather than reporting every credential missing.
		d.Log.Error(err, "Drift audit cycle failed: cannot read the TLS material DestinationRules name")
		return
	}
	current := map[violationKey]string{}
	counts := map[[3]string]int{}
	byNamespace := map[string][]finding{}
	_ = d.Store.View(func(s state.Snapshot) error {
		forEachObject(s, d.Config, nil, func(o *state.Object) {
			seen := map[string]bool{}
			for _, r := range d.Engine.EvaluateAsItStands(s, o, view).Results {
				if transitionRules[r.Rule] {
					continue
				}
				msg := withheld(o.Ref.Namespace, r)
				byNamespace[o.Ref.Namespace] = append(byNamespace[o.Ref.Namespace],
					finding{ref: o.Ref, rule: r.Rule, field: r.Field, message: msg, action: r.Action})
				if r.Action != rules.Deny {
					continue
				}
				key := violationKey{ref: o.Ref, rule: r.Rule}
				if _, ok := current[key]; !ok {
					current[key] = r.Field + ": " + msg
				}
				if !seen[r.Rule] {
					seen[r.Rule] = true
					counts[[3]string{r.Rule, o.Ref.Kind, o.Ref.Namespace}]++
				}
			}
		})
		return nil
	})
	violations.Reset()
	for k, n := range counts {
		violations.WithLabelValues(k[0], k[1], k[2]).Set(float64(n))
	}
	d.publish(ctx, current)
	d.previous = current
	if d.Reports != nil {
		if err := d.Reports.Sync(ctx, byNamespace); err != nil {
			d.Log.Error(err, "Cannot bring the audit Reports in step")
		}
	}
	auditDuration.Set(time.Since(start).Seconds())
	lastSuccess.Set(float64(time.Now().Unix()))
}

// trust reads, uncached, the credential Secrets and mesh roots every
// DestinationRule's TLS settings name, once per cycle, so that a Secret
// deleted or a root rotated after admission is judged (MG401..MG406). The
// data is inspected and dropped as in a review; nil when no reader is set.
func (d *Drift) trust(ctx context.Context) (*trust.View, error) {
	if d.Trust == nil {
		return nil, nil
	}
	view := engine.NewTrustView(d.Config, time.Now())
	return view, engine.GatherTrust(ctx, d.Config, d.Store, view, d.Trust, func(s state.Snapshot) []*state.DestinationRule {
		var drs []*state.DestinationRule
		for _, ns := range s.NamespaceNames() {
			if !d.Config.Excluded(ns) {
				drs = append(drs, s.DestinationRules(ns)...)
			}
		}
		return drs
	})
}

// withheld is the finding's message as the object's namespace may see it:
// events and Reports are readable by whoever reads that namespace, so a
// finding about a Secret or ConfigMap of another namespace keeps its verdict
// and loses the details (no cross-namespace oracle, as in reviews).
func withheld(ns string, r engine.Result) string {
	for _, ref := range r.Reveals {
		if ref.Namespace != ns {
			return rules.WithheldMessage(ref)
		}
	}
	return r.Message
}

// publish emits an event for every violation that appeared or went away.
func (d *Drift) publish(ctx context.Context, current map[violationKey]string) {
	if d.Events == nil || d.previous == nil && len(current) == 0 {
		return
	}
	var entered, left []violationKey
	for k := range current {
		if _, ok := d.previous[k]; !ok {
			entered = append(entered, k)
		}
	}
	for k := range d.previous {
		if _, ok := current[k]; !ok {
			left = append(left, k)
		}
	}
	sortKeys(entered)
	sortKeys(left)
	for _, k := range entered {
		if obj := d.fetch(ctx, k.ref); obj != nil {
			d.Events.Eventf(obj, nil, corev1.EventTypeWarning, k.rule, "Audit", "%s", truncate(current[k]))
		}
	}
	for _, k := range left {
		if obj := d.fetch(ctx, k.ref); obj != nil {
			d.Events.Eventf(obj, nil, corev1.EventTypeNormal, "Resolved", "Audit", "no longer violates %s", k.rule)
		}
	}
}

// fetch reads the object for the event (its UID, so that `kubectl describe`
// finds the event); nil when it is gone or cannot be read.
func (d *Drift) fetch(ctx context.Context, ref state.ObjectRef) runtime.Object {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(schema.GroupVersion{Group: ref.Group, Version: "v1"}.String()) // "v1" for the core group
	u.SetKind(ref.Kind)
	if err := d.Reader.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, u); err != nil {
		d.Log.V(1).Info("Cannot read the object to record an event on", "kind", ref.Kind, "namespace", ref.Namespace, "name", ref.Name, "error", err.Error())
		return nil
	}
	return u
}

func sortKeys(ks []violationKey) {
	sort.Slice(ks, func(i, j int) bool {
		a, b := ks[i], ks[j]
		return fmt.Sprint(a.ref.Kind, a.ref.Namespace, a.ref.Name, a.rule) < fmt.Sprint(b.ref.Kind, b.ref.Namespace, b.ref.Name, b.rule)
	})
}

// truncate keeps an event note within the API's 1 kB limit.
func truncate(s string) string {
	if len(s) > 1000 {
		return s[:997] + "..."
	}
	return s
}
