#!/usr/bin/env bash
# Installs what make e2e's node runs besides the Kubernetes binaries: Debian's
# containerd, runc, the CNI plugins (bridge, host-local, loopback under
# /usr/lib/cni) and iptables, when one of them is missing. Needs root.
set -euo pipefail
missing=()
command -v containerd >/dev/null || missing+=(containerd)
command -v runc >/dev/null || missing+=(runc)
[ -x /usr/lib/cni/bridge ] && [ -x /usr/lib/cni/host-local ] && [ -x /usr/lib/cni/loopback ] || missing+=(containernetworking-plugins)
command -v iptables >/dev/null || missing+=(iptables)
command -v ip >/dev/null || missing+=(iproute2)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "e2e-deps: ${missing[*]} missing, and installing them needs root" >&2
  exit 1
fi
echo "e2e-deps: installing ${missing[*]}" >&2
apt-get update >&2
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2
