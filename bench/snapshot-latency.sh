#!/usr/bin/env bash
# Write latency while snapshots are taken (`make bench-snapshot`): does taking a snapshot of a big state stall the
# cluster? Starts a 3-node raftkv cluster (JVM, ports 9101-9103; BENCH_NATIVE=path runs that executable instead), fills
# it with BENCH_SNAPSHOT_KEYS keys (default 1,000,000) of 256 bytes, warms it up, then runs the same wrk write load
# (64 connections, 256-byte values over all the keys) twice: once as is, once while every node takes a snapshot
# (POST /v1/snapshot on all three at once, the worst case). Prints both p99s, the snapshot times and sizes, and
# saves the report in bench/results/snapshot-<UTC timestamp>.md. Automatic snapshots are off during the run.
#
# Environment: BENCH_SNAPSHOT_KEYS=1000000 BENCH_SNAPSHOT_SECS=20 BENCH_TMPDIR=/var/tmp BENCH_NATIVE=<executable>
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
KEYS=${BENCH_SNAPSHOT_KEYS:-1000000}
SECS=${BENCH_SNAPSHOT_SECS:-20}
JAR=$ROOT/target/quarkus-app/quarkus-run.jar
TMP=$(mktemp -d "${BENCH_TMPDIR:-/var/tmp}/raftkv-snapbench.XXXXXX")
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$TMP"; }
trap cleanup EXIT
log() { echo "[snapshot-bench] $*" >&2; }

command -v wrk >/dev/null || { apt-get install -y -q wrk >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q wrk >/dev/null; }; }
[[ -n ${BENCH_NATIVE:-} || -f $JAR ]] || ./mvnw -B -q package -DskipTests

PEERS="node1=http://127.0.0.1:9101,node2=http://127.0.0.1:9102,node3=http://127.0.0.1:9103"
# Peers on 10101-10103 with mutual TLS, as everywhere else (certificates in the temp dir).
bash scripts/peer-certs.sh "$TMP/tls" node1 node2 node3 >/dev/null
export RAFTKV_PEER_TLS_DIR=$TMP/tls RAFTKV_PEER_HOST=127.0.0.1
for n in 1 2 3; do
  cmd=(java -jar "$JAR"); [[ -n ${BENCH_NATIVE:-} ]] && cmd=("$BENCH_NATIVE")
  QUARKUS_HTTP_HOST=127.0.0.1 QUARKUS_HTTP_PORT=910$n RAFTKV_NODE_ID=node$n RAFTKV_PEERS=$PEERS \
    RAFTKV_DATA_DIR=$TMP/node$n RAFTKV_SNAPSHOT_THRESHOLD=1000000000000 RAFTKV_SNAPSHOT_THRESHOLD_BYTES=1000000000000000 \
    "${cmd[@]}" >"$TMP/node$n.log" 2>&1 &
  PIDS+=($!)
done
leader=""
for _ in $(seq 1 300); do
  for n in 1 2 3; do
    curl -fsS --max-time 1 "http://127.0.0.1:910$n/v1/status" 2>/dev/null | grep -q '"role":"leader"' && leader=$n
  done
  [[ -n $leader ]] && break
  sleep 0.2
done
[[ -n $leader ]] || { log "no leader; logs in $TMP"; tail -5 "$TMP"/node*.log; exit 1; }
URL=http://127.0.0.1:910$leader
log "leader node$leader; filling $KEYS keys"
t0=$SECONDS
keys_now() { curl -fsS "$URL/v1/status" | sed -n 's/.*"keys":\([0-9]*\).*/\1/p'; }
from=0
# wrk cannot stop after N requests: write the keys in turn, 30 s at a time, until (nearly) all exist (two threads
# interleave, so a few keys at the end of each pass may wait for the next one).
until (( $(keys_now) * 1000 >= KEYS * 999 )); do
  n=$(BENCH_SYSTEM=raftkv BENCH_OP=fill BENCH_THREADS=2 BENCH_FILL_FROM=$from BENCH_KEYS=$KEYS \
        wrk -t2 -c64 -d30s --timeout 5s -s bench/kv.lua "$URL" 2>&1 | sed -n 's/^RESULT .* requests=\([0-9]*\).*/\1/p')
  from=$(( (from + ${n:-0}) % KEYS ))
  log "  $(keys_now) keys"
  (( SECONDS - t0 < 3600 )) || { log "could not fill $KEYS keys within an hour"; exit 1; }
done
fill_secs=$((SECONDS - t0))

wrk_p99() { # seconds -> "rps p99_us"
  BENCH_SYSTEM=raftkv BENCH_OP=write BENCH_KEYS=$KEYS wrk -t2 -c64 -d"$1s" --timeout 5s -s bench/kv.lua "$URL" 2>&1 |
    sed -n 's/^RESULT .*rps=\([0-9.]*\) .*p99_us=\([0-9]*\).*/\1 \2/p'
}
log "warm-up ($SECS s)"; wrk_p99 "$SECS" >/dev/null
log "writes without a snapshot ($SECS s)"; read -r base_rps base_p99 < <(wrk_p99 "$SECS")
log "writes while all three nodes take a snapshot ($SECS s)"
wrk_p99 "$SECS" >"$TMP/during" &
wrk_pid=$!
sleep 2
snap_pids=()
for n in 1 2 3; do
  ( s=$(date +%s%N); r=$(curl -fsS -X POST --max-time 600 "http://127.0.0.1:910$n/v1/snapshot");
    echo "node$n $(( ($(date +%s%N) - s) / 1000000 )) ms $r" >"$TMP/snap$n" ) &
  snap_pids+=($!)
done
wait "$wrk_pid" "${snap_pids[@]}"   # not a bare wait: the nodes are background jobs too
read -r snap_rps snap_p99 <"$TMP/during"

# Restart after a million writes: SIGKILL a follower (its log now compacted behind the snapshot) and time its return.
f=$(( leader % 3 + 1 ))
kill -9 "${PIDS[$((f - 1))]}"
cmd=(java -jar "$JAR"); [[ -n ${BENCH_NATIVE:-} ]] && cmd=("$BENCH_NATIVE")
t0=$(date +%s%N)
QUARKUS_HTTP_HOST=127.0.0.1 QUARKUS_HTTP_PORT=910$f RAFTKV_NODE_ID=node$f RAFTKV_PEERS=$PEERS \
  RAFTKV_DATA_DIR=$TMP/node$f RAFTKV_SNAPSHOT_THRESHOLD=1000000000000 RAFTKV_SNAPSHOT_THRESHOLD_BYTES=1000000000000000 \
  "${cmd[@]}" >>"$TMP/node$f.log" 2>&1 &
PIDS+=($!)
until curl -fsS --max-time 1 "http://127.0.0.1:910$f/q/health/ready" >/dev/null 2>&1; do sleep 0.05; done
restart_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
first_index=$(curl -fsS "http://127.0.0.1:910$f/v1/status" | sed -n 's/.*"firstIndex":\([0-9]*\).*/\1/p')
data_mb=$(du -sm "$TMP/node$f" | cut -f1)
ms() { awk -v u="$1" 'BEGIN { printf "%.1f ms", u / 1000 }'; }
mkdir -p bench/results
out=bench/results/snapshot-$(date -u +%Y%m%dT%H%M%SZ).md
{
  echo "# Write latency during snapshots ($(date -u +%FT%TZ))"
  echo
  echo "- raftkv commit $(git rev-parse --short HEAD), $([[ -n ${BENCH_NATIVE:-} ]] && echo "native $(basename "$BENCH_NATIVE")" || java -version 2>&1 | head -1), $(nproc) cores"
  echo "- $(keys_now) keys of 256 bytes (filled in $fill_secs s); wrk writes, 64 connections, $SECS s per row, to the leader"
  echo
  echo "| row | writes/s | p99 |"
  echo "|---|--:|--:|"
  echo "| no snapshot | ${base_rps%.*} | $(ms "$base_p99") |"
  echo "| every node taking a snapshot | ${snap_rps%.*} | $(ms "$snap_p99") |"
  echo
  echo "p99 during / p99 without: $(awk -v a="$snap_p99" -v b="$base_p99" 'BEGIN { printf "%.2f", a / b }')x"
  echo
  echo "Restart after these writes: node$f SIGKILLed and started again, ready (knows the leader, caught up) in"
  echo "$restart_ms ms; its log starts at index $first_index; its data directory holds $data_mb MB."
  echo
  echo "Snapshots (POST /v1/snapshot, time to durable, answer):"
  echo
  for n in 1 2 3; do echo "- $(cat "$TMP/snap$n" 2>/dev/null || echo "node$n: no answer")"; done
} | tee "$out"
log "saved $out"
