#!/usr/bin/env bash
# Installs mermaid-cli (mmdc) pinned by version into bin/, once, with the npm
# registry, and prints the path of mmdc. mmdc renders through a headless
# Chromium: puppeteer's own browser download cannot reach its host here, so
# it is skipped and Debian's chromium is used (installed with apt-get when
# missing and run as root). The puppeteer configuration it needs is written
# beside mmdc as puppeteer.json: pass it as -p, or as MMDC_PUPPETEER_CONFIG
# to the pathview tests.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MERMAID_CLI_VERSION="${MERMAID_CLI_VERSION:-11.17.0}"
dir="$root/bin/mermaid-cli-$MERMAID_CLI_VERSION"
chromium="$(command -v chromium || command -v chromium-browser || true)"
if [ -z "$chromium" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "mermaid-cli: installing Debian's chromium (once)" >&2
    apt-get update -qq >&2 && apt-get install -y -qq chromium >&2
    chromium="$(command -v chromium)"
  else
    echo "mermaid-cli: needs a Chromium (apt-get install chromium)" >&2
    exit 1
  fi
fi
if [ ! -x "$dir/node_modules/.bin/mmdc" ]; then
  echo "mermaid-cli: installing @mermaid-js/mermaid-cli@$MERMAID_CLI_VERSION with npm (a minute, once)" >&2
  mkdir -p "$dir"
  PUPPETEER_SKIP_DOWNLOAD=1 npm install --prefix "$dir" --no-audit --no-fund --silent "@mermaid-js/mermaid-cli@$MERMAID_CLI_VERSION" >&2
fi
printf '{"executablePath": "%s", "args": ["--no-sandbox", "--disable-gpu"]}\n' "$chromium" > "$dir/puppeteer.json"
echo "$dir/node_modules/.bin/mmdc"
