#!/usr/bin/env bash
# What UiBrowserIT (the cluster view in headless Chromium) needs, installed when missing; quick when all is there:
#   - Debian's chromium (/usr/bin/chromium) and node + npm (Debian's nodejs is fine: node 18 or newer), with
#     apt-get when we are root (as CI is); otherwise it says what is missing and leaves it (the test then skips);
#   - playwright-core, exactly as src/test/ui/package-lock.json pins it, with `npm ci` into target/ui-browser
#     (again only when the lock changed). No browser is downloaded: the test launches /usr/bin/chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "[browser-deps] $*" >&2; }

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        log "installing Debian's ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        log "missing: ${missing[*]} (not root, or no apt-get): install them to run UiBrowserIT; it will be skipped"
        exit 0
    fi
fi

dir=target/ui-browser
if [ -f "$dir/node_modules/playwright-core/package.json" ] && cmp -s src/test/ui/package-lock.json "$dir/package-lock.json"; then
    log "ready: $(chromium --version 2>/dev/null | head -1), node $(node --version), playwright-core in $dir"
    exit 0
fi
mkdir -p "$dir"
cp src/test/ui/package.json src/test/ui/package-lock.json "$dir/"
log "npm ci of playwright-core into $dir"
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
log "ready: $(chromium --version 2>/dev/null | head -1), node $(node --version), playwright-core in $dir"
