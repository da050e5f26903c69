package sidecar_test

import (
	"testing"

	"github.com/meshguard/meshguard/pkg/rules/rulestest"
	"github.com/meshguard/meshguard/pkg/rules/sidecar"
)

// Expected findings of each rule on its fixtures, keyed by "scenario ns/name".
var fixtures = map[string]map[string][]string{
	"MG603": {
		"entries frontend/default":                 {`deny spec.egress "^Sidecar frontend/default imports no payments.example.com on port 443 for sidecars in frontend and its outboundTrafficPolicy is REGISTRY_ONLY: their calls go to the BlackHoleCluster and fail with 502 — add \"egress-config/payments.example.com\" (or \"egress-config/*\")"`},
		"entries frontend/default (by-host)":       {},
		"first frontend/default":                   {`deny spec.egress "^Sidecar frontend/default imports no api.backend.svc.cluster.local on port 8080 for sidecars in frontend and its outboundTrafficPolicy is REGISTRY_ONLY: their calls go to the BlackHoleCluster and fail with 502 — add \"backend/api.backend.svc.cluster.local\" (or \"backend/*\") to spec.egress[].hosts of Sidecar frontend/default"`},
		"first frontend/default (allow-any)":       {},
		"first frontend/default (egress-includes)": {},
		"first frontend/default (exact-host)":      {},
		"first frontend/default (none)":            {`deny spec.egress "^Sidecar frontend/default imports none of 2 hosts: api.backend.svc.cluster.local on port 8080, web.frontend.svc.cluster.local on port 80 for sidecars in frontend and its outboundTrafficPolicy is REGISTRY_ONLY: their calls go to the BlackHoleCluster and fail with 502 — add each as \"namespace/host\""`},
		"first frontend/default (port-bound)":      {},
		"first tools/default":                      {},
		"selector frontend/batch":                  {`deny spec.egress "^Sidecar frontend/batch imports no api.backend.svc.cluster.local on port 8080 for sidecars in frontend selected by app=batch and"`},
		"selector frontend/cron":                   {},
		"delete frontend/default":                  {},
		"delete frontend/batch":                    {`deny spec "^Sidecar frontend/default imports no api.backend.svc.cluster.local on port 8080 for sidecars in frontend selected by app=batch and its outboundTrafficPolicy is REGISTRY_ONLY: their calls go to the BlackHoleCluster and fail with 502 — keep this Sidecar, or first add \"backend/api.backend.svc.cluster.local\" to spec.egress[].hosts of Sidecar frontend/default"`},
		"preexisting frontend/default":             {`warn pre-existing spec.egress "^Sidecar frontend/default imports no api.backend.svc.cluster.local on port 8080 for sidecars in frontend"`},
		"root frontend/default":                    {`deny spec "^Sidecar istio-system/default imports no api.backend.svc.cluster.local on port 8080 for sidecars in frontend and"`},
	},
}

func TestFixtures(t *testing.T) { rulestest.Package(t, sidecar.All(), fixtures) }
