package peerauthentication_test

import (
	"testing"

	"github.com/meshguard/meshguard/pkg/rules/peerauthentication"
	"github.com/meshguard/meshguard/pkg/rules/rulestest"
)

// Expected findings of each rule on its fixtures, keyed by "scenario ns/name".
// Every write not listed must produce no finding of that rule.
var fixtures = map[string]map[string][]string{
	"MG101": {
		"callers istio-system/default":      {`deny spec.mtls.mode "3 pods outside the mesh in 3 namespaces (batch, clients, legacy) that may call meshed workloads: batch/cleanup-1, clients/sleep-5c6-z8xq1 (Deployment sleep)"`},
		"mesh-wide istio-system/default":    {`deny spec.mtls.mode "mesh-wide STRICT would reject plaintext from 2 pods outside the mesh in 2 namespaces (batch, legacy)"`},
		"mesh-wide legacy/strict":           {`deny spec.mtls.mode "STRICT would reject plaintext from 1 pod outside the mesh in legacy that may call its meshed workloads: legacy/reporting-0 (StatefulSet reporting) — inject or enroll them"`},
		"override legacy/migration":         {`deny spec.mtls.mode "the mesh-wide STRICT of istio-system/default now reaching"`},
		"override legacy/migration (unset)": {`deny spec.mtls.mode "the mesh-wide STRICT of istio-system/default now reaching"`},
		"override istio-system/default":     {`warn pre-existing spec.mtls.mode "mesh-wide STRICT would reject plaintext from 2 pods outside"`},
		"preexisting legacy/strict":         {`warn pre-existing spec.mtls.mode "STRICT would reject plaintext from 1 pod outside the mesh"`},
		"external shop/default":             {`deny spec.mtls.mode "STRICT would reject the plaintext that callers outside the cluster (clients, load balancers' health checks) send through Service shop/web-public, reachable from outside, to 1 meshed pod on port 80: web-5d9c7f-8xk2p"`},
		"external shop/web-strict":          {`deny spec.mtls.mode "send through Service shop/web-public, reachable from outside, to 1 meshed pod on port 80"`},
		"external istio-system/default": {`deny spec.mtls.mode "send through Service shop/web-public, reachable from outside, to 1 meshed pod on port 80"`,
			`deny spec.mtls.mode "mesh-wide STRICT would reject plaintext from 2 pods outside the mesh in 2 namespaces (batch, legacy)"`},
		"vms vm/strict":                     {`deny spec.mtls.mode "STRICT would reject plaintext from 1 pod outside the mesh in vm that may call its meshed workloads: vm/db-migrate-k2x9p (Job db-migrate)"`},
		"scope legacy/api-strict":           {`deny spec.mtls.mode "STRICT would reject plaintext from 1 pod outside the mesh in legacy that may call its meshed workloads: legacy/reporting-0"`},
		"override-callers orders/keep-open": {`deny spec.mtls.mode "^the mesh-wide STRICT of istio-system/default now reaching orders would reject plaintext from 3 pods outside the mesh in batch, legacy, reports that may call its meshed workloads: batch/cleanup-1, legacy/reporting-0 (StatefulSet reporting), reports/export-29012340-x7k2m (Job export-29012340) — inject or enroll them"`},
		"gateway-lookalike edge/default": {`deny spec.mtls.mode "^STRICT would reject plaintext from 1 pod outside the mesh in edge that may call its meshed workloads: edge/toolbox"`,
			`deny spec.mtls.mode "send through Service edge/api-gateway, reachable from outside, to 1 meshed pod on port 80: api-gateway-5b7-x9z1w"`},
		"apiserver policy/default":        {`deny spec.mtls.mode "STRICT would reject the kube-apiserver, which calls Service policy/policy-webhook port 443 (target port 9443 on 1 meshed pod: policy-webhook-6f7c9-k2j4m) for ValidatingWebhookConfiguration policy-validating (webhook validate.policy.example.com) with TLS of its own, not Istio mTLS: every admission request it reviews fails cluster-wide (or goes unreviewed, with failurePolicy: Ignore) — keep that port PERMISSIVE with a PeerAuthentication selecting those pods (portLevelMtls {9443: {mode: PERMISSIVE}}), exclude it from interception (traffic.sidecar.istio.io/excludeInboundPorts), or keep policy PERMISSIVE"`},
		"apiserver policy/webhook-strict": {`deny spec.mtls.mode "calls Service policy/policy-webhook port 443 (target port 9443 on 1 meshed pod"`},
		"apiserver ambient/strict":        {`deny spec.mtls.mode "calls Service ambient/amb-convert port 443 (target port 7070 on 1 meshed pod: amb-1) for CustomResourceDefinition widgets.example.com with TLS of its own, not Istio mTLS: converting its objects between versions fails"`},
		"apiserver istio-system/default": {`deny spec.mtls.mode "calls Service ambient/amb-convert port 443"`, `deny spec.mtls.mode "calls Service policy/policy-webhook port 443"`,
			`deny spec.mtls.mode "mesh-wide STRICT would reject plaintext from 2 pods outside the mesh in 2 namespaces (batch, legacy)"`},
		"apiserver-exception policy/webhook-port":               {`deny spec.mtls.mode "calls Service policy/policy-webhook port 443 (target port 9443 on 1 meshed pod: policy-webhook-6f7c9-k2j4m) for ValidatingWebhookConfiguration policy-validating"`},
		"apiserver-exception policy/webhook-port (strict-port)": {`deny spec.portLevelMtls "calls Service policy/policy-webhook port 443 (target port 9443"`},
		"apiserver-exception istio-system/default":              {`deny spec.mtls.mode "mesh-wide STRICT would reject plaintext from 2 pods outside the mesh in 2 namespaces (batch, legacy)"`},
	},
	"MG102": {
		"addons istio-system/default": {`warn spec.mtls.mode "4 pods outside the mesh (4 kept out on purpose) in batch, cache, and 2 more would be refused"`},
		"callers legacy/api-strict":   {`warn spec.mtls.mode "3 pods outside the mesh (1 kept out on purpose) in batch, legacy would be refused"`},
		"callers shop/strict":         {`warn spec.mtls.mode "3 pods outside the mesh (1 kept out on purpose) in batch, legacy would be refused"`},
		"vms vm/strict":               {`warn spec.mtls.mode "STRICT now enforced; plaintext from 3 pods outside the mesh (1 kept out on purpose) in batch, legacy would be refused"`},
		"callers legacy/api-port":     {`warn spec.portLevelMtls "STRICT now enforced; plaintext from 3 pods outside the mesh (1 kept out on purpose) in batch, legacy would be refused"`},
	},
	"MG103": {
		"preexisting shop/web-ports": {`warn pre-existing spec.portLevelMtls[80] "port 80 is no container port of the 1 pod selected"`},
		"ports shop/web-ports":       {`deny spec.portLevelMtls[80] "port 80 is no container port of the 1 pod selected (ports 8080); Istio keys portLevelMtls by workload port, so this setting applies to nothing — 80 is a port of Service web, which targets 8080: use 8080 as the key"`},
		"targets shop/web-named":     {`deny spec.portLevelMtls[82] "port 82 is no container port of the 1 pod selected (ports 8080); Istio keys portLevelMtls by workload port, so this setting applies to nothing — 82 is a port of Service web-named, which targets 8080: use 8080 as the key"`},
		"ports shop/db-ports":        {`deny spec.portLevelMtls[9999] "port 9999 is no container port of the 1 pod selected (ports"`},
	},
	"MG104": {
		"selector shop/typo": {`warn spec.selector.matchLabels "selector matches no pod in shop, so the policy applies to"`},
	},
	"MG105": {
		"preexisting shop/strict": {`warn pre-existing metadata.name "shop also has the namespace-wide policy default"`},
		"conflicts shop/strict":   {`deny metadata.name "shop also has the namespace-wide policy default; Istio"`},
		"conflicts shop/web-v1":   {`deny spec.selector "policy shop/web already selects the same workloads; Istio"`},
	},
	"MG106": {
		"inherited shop/web":            {`warn spec.portLevelMtls[8080] "port 8080 lowered from STRICT to DISABLE: it accepts plaintext"`},
		"deleted shop/strict":           {`warn spec.mtls.mode "STRICT deleted: workloads under this policy accept"`},
		"weakened shop/strict":          {`warn spec.mtls.mode "STRICT lowered to PERMISSIVE: workloads under this policy"`},
		"weakened istio-system/default": {`warn spec.mtls.mode "DISABLE turns mTLS off for the whole mesh; traffic there is"`},
		"weakened ambient/amb-plain":    {`warn spec.mtls.mode "DISABLE selects 1 pod enrolled in ambient: ztunnel then"`},
		"exception shop/web":            {`warn spec.mtls.mode "STRICT deleted: workloads under this policy accept plaintext again"`},
		"ports shop/web":                {`warn spec.portLevelMtls[8080] "port 8080 lowered from STRICT to PERMISSIVE: it accepts plaintext"`},
		"ports shop/web-port":           {`warn spec.portLevelMtls[8080] "STRICT on port 8080 removed: that port accepts plaintext again"`},
		"ports ambient/amb-port":        {`warn spec.portLevelMtls "DISABLE selects 1 pod enrolled in ambient: ztunnel then accepts plaintext for them"`},
	},
	"MG107": {
		"preexisting istio-system/gateway-strict": {`warn pre-existing spec.selector "Istio ignores PeerAuthentications with a workload selector"`},
		"root istio-system/gateway-strict":        {`deny spec.selector "Istio ignores PeerAuthentications with a workload selector"`},
	},
	"MG109": {
		"networks sample/default": {`deny spec.mtls.mode "^DISABLE turns off mTLS on 1 meshed pod of Service sample/helloworld (helloworld-v1-6b8c9-q4t7m), which clients on other networks reach only through east-west gateway istio-system/cross-network-gateway (AUTO_PASSTHROUGH for *.local)"`,
			`deny spec.mtls.mode "of Service sample/metrics (exporter-0)"`},
		"networks sample/exporter-plaintext":    {`deny spec.mtls.mode "on 1 meshed pod of Service sample/metrics (exporter-0)"`},
		"preexisting sample/exporter-plaintext": {`warn pre-existing spec.mtls.mode "of Service sample/metrics (exporter-0)"`},
	},
	"MG108": {
		"labels batch/strict":         {`warn spec.mtls.mode "STRICT covers 1 namespace not labelled for injection"`},
		"labels istio-system/default": {`warn spec.mtls.mode "STRICT covers 1 namespace not labelled for injection (batch): new pods there get no sidecar"`},
		"revisions tagged/strict":     {},
		"revisions canary/strict":     {`warn spec.mtls.mode "STRICT covers 1 namespace not labelled for injection (canary (istio.io/rev=canary, which no injector serves)): new pods there get no sidecar"`},
		"revisions optout/strict":     {`warn spec.mtls.mode "STRICT covers 1 namespace not labelled for injection (optout): new pods there get no sidecar"`},
	},
}

func TestFixtures(t *testing.T) { rulestest.Package(t, peerauthentication.All(), fixtures) }
