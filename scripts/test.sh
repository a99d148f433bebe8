#!/usr/bin/env bash
# The project's full test run (`make test`, and so CI's .ci/run), in phases, each timed:
#
#   1. docker engine       scripts/docker-engine.sh (installs/starts dockerd when needed)
#   2. base images         scripts/base-images.sh (raftkv/base-jre:local, raftkv/base-native:local; kept if present)
#   3. unit tests+package  ./mvnw -B package: compile, Surefire unit tests, Quarkus build -> target/quarkus-app
#   4. image               scripts/image.sh jvm -> raftkv:jvm, from the target/quarkus-app just built
#   5. integration tests   ./mvnw -B failsafe:integration-test failsafe:verify -DskipITs=false
#                          (Testcontainers against raftkv:jvm; test classes compiled in phase 3)
#
# Why not one `./mvnw verify -DskipITs=false`: the image must be built between `package` and Failsafe, and
# nothing in the Maven lifecycle builds it. Splitting the run puts the image build exactly there, keeps
# Maven free of Docker plumbing, and compiles and packages once. The last line is a total over the
# Surefire and Failsafe reports ('N passed, N failed, N skipped').
#
# MVN_ARGS is added to both Maven runs (e.g. MVN_ARGS="-Draftkv.sim.seeds=200"); SKIP_ITS=1 stops after phase 3.
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
    files=(target/surefire-reports/TEST-*.xml target/failsafe-reports/TEST-*.xml)
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
    exit $rc
}
trap summary EXIT

phase "docker engine"
scripts/docker-engine.sh

phase "base images"
scripts/base-images.sh

phase "unit tests + package"
rm -rf target/surefire-reports target/failsafe-reports
./mvnw -B "${MVN_ARGS[@]}" package

if [ "${SKIP_ITS:-0}" = 1 ]; then
    exit 0
fi

phase "image raftkv:jvm"
scripts/image.sh jvm

phase "integration tests"
./mvnw -B "${MVN_ARGS[@]}" failsafe:integration-test failsafe:verify -DskipITs=false
