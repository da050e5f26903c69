#!/usr/bin/env bash
# Builds the envtest control plane (kube-apiserver, etcd, kubectl) from the Go
# module proxy into bin/k8s/<version>-<os>-<arch>, and prints that directory.
# With --node it also builds what a real node and its Deployments need (kubelet,
# kube-scheduler, kube-controller-manager) from the same module, for make e2e.
#
# The usual setup-envtest download cannot reach its bucket from build machines
# without internet, so we compile the same release from source. The first run
# takes several minutes on two cores; later runs find the binaries and return at
# once. When KUBEBUILDER_ASSETS already names a directory holding the three
# binaries, that directory wins and nothing is built.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-1.37.1}"
ETCD_VERSION="${ETCD_VERSION:-3.6.8}"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bins=(kube-apiserver etcd kubectl)
node_bins=(kubelet kube-scheduler kube-controller-manager)
if [ "${1:-}" = "--node" ]; then
  bins+=("${node_bins[@]}")
fi

have_all() {
  local dir="$1" b
  for b in "${bins[@]}"; do [ -x "$dir/$b" ] || return 1; done
}

if [ -n "${KUBEBUILDER_ASSETS:-}" ] && have_all "$KUBEBUILDER_ASSETS"; then
  echo "$KUBEBUILDER_ASSETS"
  exit 0
fi

out="$root/bin/k8s/${K8S_VERSION}-$(go env GOOS)-$(go env GOARCH)"
if have_all "$out"; then
  echo "$out"
  exit 0
fi
mkdir -p "$out"
log() { echo "envtest-binaries: $*" >&2; }

work="$root/bin/.build"
mkdir -p "$work/k8s" "$work/etcd"

build_k8s() {
  local mod="$work/k8s" gomod
  log "resolving k8s.io/kubernetes v${K8S_VERSION}"
  gomod="$(GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@v${K8S_VERSION}" |
    sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
  [ -f "$gomod" ] || { log "cannot find go.mod of k8s.io/kubernetes v${K8S_VERSION}"; exit 1; }
  {
    echo "module meshguard.local/envtest-k8s"
    echo
    echo "go 1.25"
    echo
    echo "require k8s.io/kubernetes v${K8S_VERSION}"
    echo
    # Every staging module that kubernetes replaces with ./staging/... must point
    # at its published v0.x twin instead.
    sed -n 's#^[[:space:]]*\(k8s.io/[^ ]*\) => ./staging/.*#replace \1 => \1 v0.'"${K8S_VERSION#1.}"'#p' "$gomod"
  } >"$mod/go.mod"
  cat >"$mod/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubectl/pkg/cmd"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
GO
  local major="${K8S_VERSION%%.*}" minor
  minor="${K8S_VERSION#*.}"; minor="${minor%%.*}"
  local ld="" pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X ${pkg}.gitVersion=v${K8S_VERSION} -X ${pkg}.gitMajor=${major} -X ${pkg}.gitMinor=${minor}"
  done
  (cd "$mod" && GOFLAGS=-mod=mod go mod tidy -e >/dev/null 2>&1 || true)
  local b
  for b in "${bins[@]}"; do
    [ "$b" != etcd ] && [ ! -x "$out/$b" ] || continue
    log "building $b v${K8S_VERSION} (minutes the first time)"
    (cd "$mod" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -ldflags "-s -w${ld}" -o "$out/$b" "k8s.io/kubernetes/cmd/$b")
  done
}

build_etcd() {
  local mod="$work/etcd" v="v${ETCD_VERSION}"
  cat >"$mod/go.mod" <<GOMOD
module meshguard.local/envtest-etcd

go 1.25

require go.etcd.io/etcd/server/v3 ${v}

replace (
	go.etcd.io/etcd/api/v3 => go.etcd.io/etcd/api/v3 ${v}
	go.etcd.io/etcd/client/pkg/v3 => go.etcd.io/etcd/client/pkg/v3 ${v}
	go.etcd.io/etcd/client/v3 => go.etcd.io/etcd/client/v3 ${v}
	go.etcd.io/etcd/pkg/v3 => go.etcd.io/etcd/pkg/v3 ${v}
)
GOMOD
  cat >"$mod/tools.go" <<'GO'
//go:build tools

package tools

import _ "go.etcd.io/etcd/server/v3"
GO
  log "building etcd ${v}"
  (cd "$mod" && GOFLAGS=-mod=mod go mod tidy -e >/dev/null 2>&1 || true
   cd "$mod" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$out/etcd" go.etcd.io/etcd/server/v3)
}

[ -x "$out/etcd" ] || build_etcd
build_k8s
have_all "$out" || { log "build finished but binaries are missing in $out"; exit 1; }
log "ready in $out"
echo "$out"
