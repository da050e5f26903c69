package server

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/meshguard/meshguard/pkg/config"
	"github.com/meshguard/meshguard/pkg/state"
)

// outsidersDesc is the gauge a dashboard follows a STRICT migration by: pods
// outside the mesh per namespace, by kind (accidental: nobody opted them out,
// they block STRICT; deliberate: kept out on purpose).
var outsidersDesc = prometheus.NewDesc("meshguard_mesh_outsiders",
	"Live pods outside the mesh, per namespace, by kind (accidental or deliberate).",
	[]string{"namespace", "kind"}, nil)

// outsiders reads the store's per-namespace aggregates at scrape time: one
// series per namespace that holds outsiders of that kind, so a namespace
// drops out of the output once it reaches zero and cardinality stays bounded
// by the namespaces still migrating.
type outsiders struct {
	store *state.Store
	cfg   *config.Config
}

func (o outsiders) Describe(ch chan<- *prometheus.Desc) { ch <- outsidersDesc }

func (o outsiders) Collect(ch chan<- prometheus.Metric) {
	_ = o.store.View(func(s state.Snapshot) error {
		for _, ns := range s.NamespacesWithAccidentalOutsiders() {
			if !o.cfg.Excluded(ns) {
				ch <- prometheus.MustNewConstMetric(outsidersDesc, prometheus.GaugeValue, float64(s.Coverage(ns).AccidentalOutsiders), ns, "accidental")
			}
		}
		for _, ns := range s.NamespacesWithDeliberateOutsiders() {
			if !o.cfg.Excluded(ns) {
				ch <- prometheus.MustNewConstMetric(outsidersDesc, prometheus.GaugeValue, float64(s.Coverage(ns).DeliberateOutsiders), ns, "deliberate")
			}
		}
		return nil
	})
}
