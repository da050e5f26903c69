#!/usr/bin/env bash
# Builds pinned tools into bin/ from the Go module proxy, once, and prints the
# path of the one asked for: hack/tools.sh helm|istioctl|gremlins
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HELM_VERSION="${HELM_VERSION:-v3.21.4}"
GREMLINS_VERSION="${GREMLINS_VERSION:-v0.6.0}"
# istioctl for hack/bench-vs-istioctl.sh: the proxy serves this commit of
# istio.io/istio, with istio.io/api and client-go replaced by their tags and
# go-control-plane by versions it serves (it refuses the pseudo-versions
# istio pins).
ISTIO_VERSION="${ISTIO_VERSION:-v0.0.0-20260827124520-eed52ebb66ad}"
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
  gremlins)
    bin="$root/bin/gremlins-$GREMLINS_VERSION"
    if [ ! -x "$bin" ]; then
      echo "tools: building gremlins $GREMLINS_VERSION (a minute, once)" >&2
      tmp="$(mktemp -d)"
      GOBIN="$tmp" CGO_ENABLED=0 go install -trimpath "github.com/go-gremlins/gremlins/cmd/gremlins@$GREMLINS_VERSION" >&2
      mkdir -p "$root/bin" && mv "$tmp/gremlins" "$bin" && rmdir "$tmp"
    fi
    echo "$bin"
    ;;
  istioctl)
    bin="$root/bin/istioctl-${ISTIO_VERSION##*-}"
    if [ ! -x "$bin" ]; then
      echo "tools: building istioctl at istio.io/istio $ISTIO_VERSION (10 minutes or more, once)" >&2
      tmp="$(mktemp -d)"
      {
        echo "module istioctlbuild"
        echo
        echo "go 1.26"
        echo
        echo "require istio.io/istio $ISTIO_VERSION"
        echo
        echo "replace ("
        echo "	istio.io/api => istio.io/api v1.31.1"
        echo "	istio.io/client-go => istio.io/client-go v1.31.1"
        echo "	github.com/envoyproxy/go-control-plane/envoy => github.com/envoyproxy/go-control-plane/envoy v1.39.0"
        echo "	github.com/envoyproxy/go-control-plane/contrib => github.com/envoyproxy/go-control-plane/contrib v1.36.1-0.20260729145720-a2d8c7492908"
        echo ")"
      } > "$tmp/go.mod"
      printf '//go:build tools\n\npackage tools\n\nimport _ "istio.io/istio/istioctl/cmd/istioctl"\n' > "$tmp/tools.go"
      (cd "$tmp" && GOFLAGS=-mod=mod go mod tidy >&2 && GOFLAGS=-mod=mod go build -trimpath -o istioctl istio.io/istio/istioctl/cmd/istioctl >&2)
      mkdir -p "$root/bin" && mv "$tmp/istioctl" "$bin" && rm -rf "$tmp"
    fi
    echo "$bin"
    ;;
  *)
    echo "usage: hack/tools.sh helm|istioctl|gremlins" >&2
    exit 2
    ;;
esac
