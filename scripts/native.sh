#!/usr/bin/env bash
# `make native`: build the native executable (target/raftkv-*-runner) and the image raftkv:native.
#
# The native-image toolchain is found in this order, and the one used is printed:
#   1. GRAALVM_HOME (a GraalVM or Mandrel for JDK 21+; its bin/native-image must answer)
#   2. a native-image on the PATH (its GraalVM home is derived from it)
#   3. ../shared/native-image/install.sh, where it exists (raftkv's build machines and CI assemble a GraalVM CE
#      there from the machine's Temurin 25 and Maven Central)
#   4. the Quarkus container build (-Dquarkus.native.container-build=true: needs Docker and a container registry)
#
#   scripts/native.sh             find a toolchain, build the executable, then the image
#   scripts/native.sh --find      only print what would be used (exit 3 when nothing but the container build is left)
#   scripts/native.sh --no-image  build the executable only
#
# NATIVE_TOOLCHAIN=local refuses the container-build fallback (exit 3 when no local toolchain is found).
# The build needs about 4 GB of memory and 3 minutes on 2 cores; MVN_ARGS are passed to Maven.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "[native] $*" >&2; }

answers() { [ -x "$1/bin/native-image" ] && "$1/bin/native-image" --version >/dev/null 2>&1; }

# Prints "<how> <GRAALVM_HOME>" (an empty home for the container build).
find_toolchain() {
    if [ -n "${GRAALVM_HOME:-}" ]; then
        answers "$GRAALVM_HOME" || { log "GRAALVM_HOME=$GRAALVM_HOME has no working bin/native-image"; return 1; }
        echo "GRAALVM_HOME $GRAALVM_HOME"; return
    fi
    local ni
    if ni=$(command -v native-image 2>/dev/null); then
        local home; home=$(cd "$(dirname "$(readlink -f "$ni")")/.." && pwd)
        if answers "$home"; then echo "PATH $home"; return; fi
    fi
    local installer=../shared/native-image/install.sh
    if [ -x "$installer" ] || [ -f "$installer" ]; then
        local home
        # One installer at a time: two at once would assemble into the same folder.
        if home=$(flock /tmp/raftkv-native-install.lock bash "$installer" 2>/dev/null | tail -1) && answers "$home"; then
            echo "shared-installer $home"; return
        fi
        log "$installer did not produce a working toolchain"
    fi
    echo "container-build "
}

read -r how home < <(find_toolchain) || exit 1
case "${1:-}" in
    --find)
        echo "$how ${home:-}"
        [ "$how" != container-build ] || exit 3
        exit 0 ;;
esac

mvn_args=(package -Dnative -DskipTests)
case "$how" in
    container-build)
        if [ "${NATIVE_TOOLCHAIN:-}" = local ]; then
            log "no local native-image toolchain (GRAALVM_HOME, native-image on the PATH, ../shared/native-image) and NATIVE_TOOLCHAIN=local"
            exit 3
        fi
        log "no local toolchain: building inside the Quarkus builder container (needs a registry)"
        mvn_args+=(-Dquarkus.native.container-build=true) ;;
    *)
        log "toolchain from $how: $home ($("$home/bin/native-image" --version 2>/dev/null | head -1))"
        export GRAALVM_HOME=$home ;;
esac

# shellcheck disable=SC2206
extra=(${MVN_ARGS:-})
start=$SECONDS
./mvnw -B "${extra[@]}" "${mvn_args[@]}"
runner=$(ls -t target/*-runner | head -1)
log "built $runner ($(du -m "$runner" | cut -f1) MB) in $((SECONDS - start)) s"

[ "${1:-}" = --no-image ] && exit 0
scripts/image.sh native
