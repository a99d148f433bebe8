#!/usr/bin/env bash
# Make sure a Docker engine answers `docker info`.
# If none does, start dockerd in the background (log: $DOCKERD_LOG, default /var/log/dockerd.log),
# first installing Debian's docker.io when dockerd is missing and we are root.
# Waits up to $DOCKER_WAIT seconds (default 60) for the engine.
set -euo pipefail

DOCKERD_LOG=${DOCKERD_LOG:-/var/log/dockerd.log}
DOCKER_WAIT=${DOCKER_WAIT:-60}

log() { echo "[docker-engine] $*" >&2; }

if docker info >/dev/null 2>&1; then
    log "engine already running ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'))"
    exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ]; then
        log "dockerd is not installed and we are not root: install docker.io (or start an engine) first"
        exit 1
    fi
    log "installing Debian's docker.io"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # docker.io brings its own CLI; keep a newer client already on the PATH first in line (it negotiates the API).
    apt-get install -y -qq --no-install-recommends docker.io iptables >/dev/null
fi

if [ "$(id -u)" -ne 0 ]; then
    log "no engine answers and we are not root: cannot start dockerd"
    exit 1
fi

# A dockerd that is starting (or hung) already: don't start a second one, just wait for it.
if [ -S /var/run/docker.sock ] && pgrep -x dockerd >/dev/null 2>&1; then
    log "dockerd is already running; waiting for it"
else
    log "starting dockerd (log: $DOCKERD_LOG)"
    mkdir -p "$(dirname "$DOCKERD_LOG")"
    # setsid: the daemon must outlive this script and the make/CI job that called it.
    setsid nohup dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null &
fi

deadline=$((SECONDS + DOCKER_WAIT))
until docker info >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
        log "engine not ready after ${DOCKER_WAIT}s; last lines of $DOCKERD_LOG:"
        tail -n 30 "$DOCKERD_LOG" >&2 || true
        exit 1
    fi
    sleep 0.2
done
log "engine ready ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?')) after $((SECONDS))s"
