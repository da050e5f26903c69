#!/usr/bin/env bash
# Builds pinned tools into bin/ from the Go module proxy, once, and prints the
# path of the one asked for: hack/tools.sh helm
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HELM_VERSION="${HELM_VERSION:-v3.21.4}"
case "${1:-}" in
  helm)
    bin="$root/bin/helm-$HELM_VERSION"
    if [ ! -x "$bin" ]; then
      echo "tools: building helm $HELM_VERSION (a few minutes, once)" >&2
      tmp="$(mktemp -d)"
      GOBIN="$tmp" CGO_ENABLED=0 go install -trimpath "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
      mkdir -p "$root/bin" && mv "$tmp/helm" "$bin" && rmdir "$tmp"
    fi
    echo "$bin"
    ;;
  *)
    echo "usage: hack/tools.sh helm" >&2
    exit 2
    ;;
esac
