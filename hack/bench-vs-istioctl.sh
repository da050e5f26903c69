#!/usr/bin/env bash
# Compares `meshguard check` with `istioctl analyze --use-kube=false -A` on the
# same generated whole-cluster exports (1,000 namespaces of 10 and of 100
# meshed pods, a Service, a DestinationRule and a VirtualService each, and a
# mesh-wide STRICT change), runs interleaved, and prints the median wall time
# and peak RSS of each with the ratios, for every emitter style: YAML
# documents, kubectl's YAML List, a List whose long annotations are wrapped
# at 80 columns (PyYAML, yq, go-yaml), hand-written flow style with comments
# (each read by both tools), and kubectl's JSON List (istioctl reads the YAML
# documents for it). A tool to run by hand
# (make bench-vs-istioctl), not part of make test. Needs GNU time and bc.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
RUNS="${RUNS:-5}"
STYLES="${STYLES:-yaml yaml-list yaml-wrapped yaml-flow}"
for tool in /usr/bin/time bc; do
  command -v "$tool" > /dev/null || { echo "bench-vs-istioctl: needs $tool (apt-get install time bc)" >&2; exit 1; }
done
istioctl="$(hack/tools.sh istioctl)"
mkdir -p bin
go build -o bin/meshguard ./cmd/meshguard
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# run NAME CMD...: one timed run, appending "seconds kilobytes" to $work/NAME.
run() {
  local name="$1"; shift
  /usr/bin/time -f "%e %M" -o "$work/t" "$@" > /dev/null 2>&1 || true
  cat "$work/t" >> "$work/$name"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

echo "median of $RUNS interleaved runs on $(nproc) cores; ratio = meshguard / istioctl (istioctl reads the YAML)"
printf '%-8s %-12s %7s %10s %10s %7s %10s %10s %7s\n' objects input MB "meshguard" istioctl ratio "mg RSS" "ic RSS" ratio
for pods in 10 100; do
  for style in $STYLES json; do
    go run ./hack/gen-state -o "$work/$pods" -pods "$pods" -format "$style" > "$work/gen.txt"
  done
  objects="$(awk '{print $2}' "$work/gen.txt")"
  file() { case "$1" in yaml) echo "$work/$pods/state.yaml" ;; json) echo "$work/$pods/state.json" ;; *) echo "$work/$pods/state-$1.yaml" ;; esac; }
  rm -f "$work"/mg-* "$work"/ic-*
  for _ in $(seq "$RUNS"); do
    for style in $STYLES; do
      run "mg-$style" bin/meshguard check --state "$(file "$style")" -f "$work/$pods/change.yaml"
      run "ic-$style" "$istioctl" analyze --use-kube=false -A "$(file "$style")" "$work/$pods/change.yaml"
    done
    run mg-json bin/meshguard check --state "$(file json)" -f "$work/$pods/change.yaml"
  done
  cp "$work/ic-yaml" "$work/ic-json"
  for style in $STYLES json; do
    ic_t="$(awk '{print $1}' "$work/ic-$style" | median)"
    ic_m="$(awk '{print $2}' "$work/ic-$style" | median)"
    mg_t="$(awk '{print $1}' "$work/mg-$style" | median)"
    mg_m="$(awk '{print $2}' "$work/mg-$style" | median)"
    size="$(du -m "$(file "$style")" | cut -f1)"
    printf '%-8s %-12s %7s %9.2fs %9.2fs %6.2fx %6d MiB %6d MiB %6.2fx\n' "$objects" "$style" "$size" "$mg_t" "$ic_t" \
      "$(echo "$mg_t / $ic_t" | bc -l)" "$((${mg_m%.*} / 1024))" "$((${ic_m%.*} / 1024))" "$(echo "$mg_m / $ic_m" | bc -l)"
  done
done
