#!/usr/bin/env bash
# Prints, one per line, the real CRDs of the optional kinds meshguard writes or
# the chart renders, taken from the modules that publish them (downloaded from
# the module proxy if needed): OpenReports' Report (the version go.mod pins),
# Prometheus Operator's PrometheusRule and ServiceMonitor, and the Gateway
# API's standard Gateway, HTTPRoute, GRPCRoute and ReferenceGrant (meshguard reads them
# unstructured, so no go.mod entry: the version is pinned here).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PROMETHEUS_OPERATOR_VERSION=v0.85.0
GATEWAY_API_VERSION=v1.6.0

moddir() { # module[@version]
  local dir
  if [[ "$1" == *@* ]]; then
    dir="$(go mod download -json "$1" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')"
  else
    dir="$(go list -m -f '{{.Dir}}' "$1")"
    if [ -z "$dir" ] || [ ! -d "$dir" ]; then
      go mod download "$1"
      dir="$(go list -m -f '{{.Dir}}' "$1")"
    fi
  fi
  [ -d "$dir" ] || { echo "optional-crds: module $1 not found" >&2; exit 1; }
  echo "$dir"
}

reports="$(moddir github.com/openreports/reports-api)"
prom="$(moddir "github.com/prometheus-operator/prometheus-operator@${PROMETHEUS_OPERATOR_VERSION}")"
gwapi="$(moddir "sigs.k8s.io/gateway-api@${GATEWAY_API_VERSION}")"
for f in "$reports/config/crd/openreports.io_reports.yaml" \
         "$prom/example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml" \
         "$prom/example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml" \
         "$gwapi/config/crd/standard/gateway.networking.k8s.io_gateways.yaml" \
         "$gwapi/config/crd/standard/gateway.networking.k8s.io_httproutes.yaml" \
         "$gwapi/config/crd/standard/gateway.networking.k8s.io_grpcroutes.yaml" \
         "$gwapi/config/crd/standard/gateway.networking.k8s.io_referencegrants.yaml"; do
  [ -f "$f" ] || { echo "optional-crds: $f not found" >&2; exit 1; }
  echo "$f"
done
