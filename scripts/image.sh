#!/usr/bin/env bash
# Build the raftkv container image: scripts/image.sh jvm|native
#
#   jvm     src/main/docker/Dockerfile.jvm    -> $IMAGE_TAG (default raftkv:jvm),    needs target/quarkus-app
#   native  src/main/docker/Dockerfile.native -> $IMAGE_TAG (default raftkv:native), needs target/*-runner
#
# The base image: $BASE_JVM / $BASE_NATIVE when set; else the public base named by the Dockerfile's
# `ARG BASE_IMAGE=` when it is present locally or can be pulled (within $PULL_TIMEOUT s, skipped with
# PULL_BASE=no); else the local base built by scripts/base-images.sh (raftkv/base-jre:local,
# raftkv/base-native:local), built first if missing. No build here ever pulls (no --pull).
set -euo pipefail
cd "$(dirname "$0")/.."

kind=${1:-jvm}
case "$kind" in
    jvm)
        dockerfile=src/main/docker/Dockerfile.jvm
        tag=${IMAGE_TAG:-raftkv:jvm}
        base=${BASE_JVM:-}
        local_base=${BASE_JRE_IMAGE:-raftkv/base-jre:local}
        [ -f target/quarkus-app/quarkus-run.jar ] ||
            { echo "[image] target/quarkus-app/quarkus-run.jar missing: run 'make build' first" >&2; exit 1; }
        ;;
    native)
        dockerfile=src/main/docker/Dockerfile.native
        tag=${IMAGE_TAG:-raftkv:native}
        base=${BASE_NATIVE:-}
        local_base=${BASE_NATIVE_IMAGE:-raftkv/base-native:local}
        compgen -G 'target/*-runner' >/dev/null ||
            { echo "[image] target/*-runner missing: run './mvnw package -Dnative' first" >&2; exit 1; }
        ;;
    *) echo "usage: $0 jvm|native" >&2; exit 2 ;;
esac

log() { echo "[image] $*" >&2; }

public_base=$(sed -n 's/^ARG BASE_IMAGE=//p' "$dockerfile" | head -1)

if [ -z "$base" ]; then
    if [ -n "$public_base" ] && docker image inspect "$public_base" >/dev/null 2>&1; then
        base=$public_base
    elif [ -n "$public_base" ] && [ "${PULL_BASE:-auto}" != no ] &&
         timeout "${PULL_TIMEOUT:-5}" docker pull -q "$public_base" >/dev/null 2>&1; then
        base=$public_base
    else
        base=$local_base
        log "public base $public_base not available: using $base"
    fi
fi
if [ "$base" = "$local_base" ] && ! docker image inspect "$base" >/dev/null 2>&1; then
    scripts/base-images.sh
fi

log "building $tag from $dockerfile on $base"
start=$SECONDS
previous=$(docker image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)
errs=$(mktemp)
trap 'rm -f "$errs"' EXIT
# DOCKER_BUILDKIT=0: the legacy builder needs no buildx plugin (not installed here) and never pulls a
# base that exists locally; the Dockerfiles use nothing BuildKit-only.
if ! DOCKER_BUILDKIT=${DOCKER_BUILDKIT:-0} docker build -q -f "$dockerfile" --build-arg "BASE_IMAGE=$base" \
        -t "$tag" . >/dev/null 2>"$errs"; then
    cat "$errs" >&2
    log "docker build of $tag failed"
    exit 1
fi
# The image this one replaces is left untagged: drop it unless a container still uses it.
if [ -n "$previous" ] && [ "$previous" != "$(docker image inspect -f '{{.Id}}' "$tag")" ]; then
    docker rmi "$previous" >/dev/null 2>&1 || true
fi
# The JVM image's class-data archive (Dockerfile.jvm) must be one its JVM maps: -Xshare:on fails if it is not.
if [ "$kind" = jvm ] && ! docker run --rm --entrypoint java "$tag" -Xshare:on -XX:SharedArchiveFile=/deployments/app-cds.jsa \
        -jar /deployments/quarkus-run.jar dump --help >/dev/null 2>"$errs"; then
    cat "$errs" >&2
    log "warning: $tag's JVM cannot use /deployments/app-cds.jsa: its nodes start without the class-data archive"
fi
size=$(docker image inspect -f '{{.Size}}' "$tag" | awk '{ printf "%.1f MB", $1/1e6 }')
log "built $tag ($size) in $((SECONDS - start)) s"
