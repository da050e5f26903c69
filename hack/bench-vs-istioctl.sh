#!/usr/bin/env bash
# Compares `meshguard check` with `istioctl analyze --use-kube=false -A` on the
# same generated whole-cluster exports (1,000 namespaces of 10 and of 100
# meshed pods, a Service, a DestinationRule and a VirtualService each, and a
# mesh-wide STRICT change), runs interleaved, and prints the median wall time
# and peak RSS of each with the ratios. meshguard also reads the same export
# as `kubectl get -o json` prints it. A tool to run by hand
# (make bench-vs-istioctl), not part of make test. Needs GNU time and bc.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
RUNS="${RUNS:-5}"
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
printf '%-8s %-5s %7s %10s %10s %7s %10s %10s %7s\n' objects input MB "meshguard" istioctl ratio "mg RSS" "ic RSS" ratio
for pods in 10 100; do
  go run ./hack/gen-state -o "$work/$pods" -pods "$pods" -format yaml > "$work/gen.txt"
  go run ./hack/gen-state -o "$work/$pods" -pods "$pods" -format json > /dev/null
  objects="$(awk '{print $2}' "$work/gen.txt")"
  rm -f "$work"/mg-* "$work"/ic-*
  for _ in $(seq "$RUNS"); do
    run mg-yaml bin/meshguard check --state "$work/$pods/state.yaml" -f "$work/$pods/change.yaml"
    run ic-yaml "$istioctl" analyze --use-kube=false -A "$work/$pods/state.yaml" "$work/$pods/change.yaml"
    run mg-json bin/meshguard check --state "$work/$pods/state.json" -f "$work/$pods/change.yaml"
  done
  ic_t="$(awk '{print $1}' "$work/ic-yaml" | median)"
  ic_m="$(awk '{print $2}' "$work/ic-yaml" | median)"
  for input in yaml json; do
    mg_t="$(awk '{print $1}' "$work/mg-$input" | median)"
    mg_m="$(awk '{print $2}' "$work/mg-$input" | median)"
    size="$(du -m "$work/$pods/state.$input" | cut -f1)"
    printf '%-8s %-5s %7s %9.2fs %9.2fs %6.2fx %6d MiB %6d MiB %6.2fx\n' "$objects" "$input" "$size" "$mg_t" "$ic_t" \
      "$(echo "$mg_t / $ic_t" | bc -l)" "$((${mg_m%.*} / 1024))" "$((${ic_m%.*} / 1024))" "$(echo "$mg_m / $ic_m" | bc -l)"
  done
done
