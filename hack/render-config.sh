#!/usr/bin/env bash
# Renders the kustomize base in config/ from the Helm chart, so that the two
# never drift (a test compares them): hack/render-config.sh > config/meshguard.yaml
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
helm="$("$root/hack/tools.sh" helm)"
echo "# Generated from charts/meshguard by hack/render-config.sh (make config); do not edit."
echo "---"
echo "apiVersion: v1"
echo "kind: Namespace"
echo "metadata:"
echo "  name: meshguard-system"
"$helm" template meshguard "$root/charts/meshguard" --namespace meshguard-system --kube-version 1.37.1 --skip-tests
