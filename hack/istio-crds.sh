#!/usr/bin/env bash
# Prints the path of the Istio CRDs shipped in the istio.io/api module that
# go.mod pins, downloading the module if needed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dir="$(go list -m -f '{{.Dir}}' istio.io/api)"
if [ -z "$dir" ] || [ ! -d "$dir" ]; then
  go mod download istio.io/api
  dir="$(go list -m -f '{{.Dir}}' istio.io/api)"
fi
crds="$dir/kubernetes/customresourcedefinitions.gen.yaml"
[ -f "$crds" ] || { echo "istio-crds: $crds not found" >&2; exit 1; }
echo "$crds"
