#!/usr/bin/env bash
# The project's full test run (`make test`, and so CI's .ci/run), in phases, each timed:
#
#   1. docker engine          scripts/docker-engine.sh (installs/starts dockerd when needed)
#   2. base images            scripts/base-images.sh (raftkv/base-jre:local, raftkv/base-native:local; kept if present)
#   3. unit tests + package   ./mvnw -B package: compile, Surefire unit tests, Quarkus build -> target/quarkus-app
#   4. image raftkv:jvm       scripts/image.sh jvm, from the target/quarkus-app just built
#   5. native executable      scripts/native.sh --no-image (GRAALVM_HOME, native-image on the PATH, or
#                             ../shared/native-image/install.sh; never the registry-bound container build)
#   6. image raftkv:native    scripts/image.sh native
#   7. integration tests jvm  scripts/browser-deps.sh first (chromium, node, playwright-core for UiBrowserIT; quick
#                             when installed), then
#                             ./mvnw -B failsafe:integration-test failsafe:verify -DskipITs=false -Dit.image=raftkv:jvm
#                             (Testcontainers, the process lab, the browser test, the Helm wiring test; test classes
#                             from phase 3)
#   8. integration tests native   the same suite against raftkv:native (the container and Helm tests; the
#                             process lab runs JVM processes and ran in phase 7)
#
# With no native toolchain on the machine, phases 5, 6 and 8 are skipped and the run says so plainly;
# REQUIRE_NATIVE=1 (set by .ci/run) makes that a failure instead. NATIVE=0 skips them on purpose.
#
# Why not one `./mvnw verify -DskipITs=false`: the images must be built between `package` and Failsafe, and
# nothing in the Maven lifecycle builds them. Splitting the run puts the image builds exactly there, keeps
# Maven free of Docker plumbing, and compiles and packages once. The last line is a total over the
# Surefire and Failsafe reports ('N passed, N failed, N skipped').
#
# MVN_ARGS is added to the Maven runs (e.g. MVN_ARGS="-Draftkv.sim.seeds=200"); SKIP_ITS=1 stops after phase 3.
set -euo pipefail
cd "$(dirname "$0")/.."

export TESTCONTAINERS_RYUK_DISABLED=${TESTCONTAINERS_RYUK_DISABLED:-true}
export TESTCONTAINERS_HOST_OVERRIDE=${TESTCONTAINERS_HOST_OVERRIDE:-localhost}
# shellcheck disable=SC2206
MVN_ARGS=(${MVN_ARGS:-})

timings=()
current=""
phase_start=0
run_start=$SECONDS

phase() {
    finish_phase
    current=$1
    phase_start=$SECONDS
    printf '\n===== [test] %s\n' "$current"
}
finish_phase() {
    [ -n "$current" ] && timings+=("$(printf '%-22s %4d s' "$current" $((SECONDS - phase_start)))")
    current=""
}

# Sum tests/failures/errors/skipped over the JUnit XML reports of this run.
count_tests() {
    local files=()
    shopt -s nullglob
    files=(target/surefire-reports/TEST-*.xml target/failsafe-reports*/TEST-*.xml)
    shopt -u nullglob
    [ ${#files[@]} -gt 0 ] || { echo "0 0 0"; return; }
    # The <testsuite ...> element's attributes (its first line in Surefire's reports).
    grep -h -o '<testsuite [^>]*>' "${files[@]}" | awk '
        function attr(s, name,   m) { if (match(s, name "=\"[0-9]+\"")) { m = substr(s, RSTART, RLENGTH); gsub(/[^0-9]/, "", m); return m + 0 } return 0 }
        { t += attr($0, "tests"); f += attr($0, " failures") + attr($0, " errors"); s += attr($0, " skipped") }
        END { printf "%d %d %d\n", t - f - s, f, s }'
}

summary() {
    local rc=$?
    if [ -n "$current" ]; then
        local failed_phase=$current
        finish_phase
        [ $rc -ne 0 ] && timings+=("(failed in: $failed_phase)") || true
    fi
    printf '\n===== [test] timings\n'
    printf '  %s\n' "${timings[@]}"
    printf '  %-22s %4d s\n' total $((SECONDS - run_start))
    [ $rc -eq 0 ] || printf '  FAILED (exit %d)\n' $rc
    local passed failed skipped
    read -r passed failed skipped < <(count_tests)
    echo "tests: $passed passed, $failed failed, $skipped skipped"
    [ -z "$native_note" ] || echo "$native_note"
    exit $rc
}
native_note=""
trap summary EXIT

phase "docker engine"
scripts/docker-engine.sh

phase "base images"
scripts/base-images.sh

phase "unit tests + package"
rm -rf target/surefire-reports target/failsafe-reports*
./mvnw -B "${MVN_ARGS[@]}" package

if [ "${SKIP_ITS:-0}" = 1 ]; then
    exit 0
fi

phase "image raftkv:jvm"
scripts/image.sh jvm

native=yes
if [ "${NATIVE:-}" = 0 ]; then
    native=no
    native_note="native: skipped (NATIVE=0): raftkv:native was neither built nor tested"
elif ! toolchain=$(scripts/native.sh --find 2>/dev/null); then
    if [ "${REQUIRE_NATIVE:-0}" = 1 ]; then
        echo "[test] REQUIRE_NATIVE=1 but no native-image toolchain was found (GRAALVM_HOME, native-image on the PATH," \
             "../shared/native-image/install.sh)" >&2
        exit 1
    fi
    native=no
    native_note="native: SKIPPED, no native-image toolchain here (set GRAALVM_HOME to a GraalVM or Mandrel to build and test raftkv:native)"
    echo "[test] $native_note" >&2
fi

if [ $native = yes ]; then
    phase "native executable"
    echo "[test] native toolchain: $toolchain"
    NATIVE_TOOLCHAIN=local scripts/native.sh --no-image

    phase "image raftkv:native"
    scripts/image.sh native
fi

phase "integration tests jvm"
scripts/browser-deps.sh
./mvnw -B "${MVN_ARGS[@]}" failsafe:integration-test failsafe:verify -DskipITs=false -Dit.image=raftkv:jvm
mv target/failsafe-reports target/failsafe-reports-jvm

if [ $native = yes ]; then
    phase "integration tests native"
    ./mvnw -B "${MVN_ARGS[@]}" failsafe:integration-test failsafe:verify -DskipITs=false -Dit.image=raftkv:native \
        -Dit.test='io.raftkv.it.containers.*IT,io.raftkv.helm.*IT'
    mv target/failsafe-reports target/failsafe-reports-native
fi
