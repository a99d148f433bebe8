#!/usr/bin/env bash
# raftkv vs etcd 3.4, side by side on this machine (what `make bench` runs).
#
#   bench/run.sh            full run: 3 runs x 10 s per workload and system, ~10 minutes on 2 cores
#   bench/run.sh --quick    smoke test: 1 run x 3 s, no warm-up, 2 failovers (~2 minutes)
#
# Starts a 3-node raftkv cluster (ports 9001-9003) and a 3-member etcd cluster (client ports 12379/22379/32379,
# peer ports 12380/22380/32380), all on 127.0.0.1 with their data in one temp dir (same disk for both), and drives
# the same wrk workloads (bench/kv.lua) against raftkv's REST API and etcd's JSON gateway, always on the leader.
# Also measures time to first leader, failover after SIGKILL of the leader, RSS per node and disk use per 10k writes.
# If target/*-runner (the native executable) exists, it runs as a third system ("raftkv-native", ports 9011-9013).
# The report is printed and saved as bench/results/<UTC timestamp>.md. Both clusters are stopped on exit.
#
# Environment (all optional):
#   BENCH_RUNS=3 BENCH_DURATION=10 (s; 7 when the native executable also runs) BENCH_WARMUP=2 (s per workload)
#   BENCH_SYSTEM_WARMUP=30 (s of mixed load per system once, before the first workload: JIT warm-up)
#   BENCH_FAILOVERS=5  BENCH_KEYS=10000  BENCH_VALUE_BYTES=256  BENCH_LEADER_TIMEOUT=60 (s)
#   BENCH_TMPDIR=/var/tmp (parent of the data dirs: keep it on a real disk, not tmpfs)  BENCH_KEEP=1 (keep data+logs)
#   BENCH_NATIVE=0 (skip the native executable) or =path (another executable to run as raftkv-native)
#   BENCH_NO_BUILD=1 (never run Maven)  BENCH_JAVA_OPTS (JVM flags for the raftkv nodes)
#   BENCH_APPCDS=0 (the JVM members without the class-data archive that `raftkv warm-up` makes, as the image has)
#   BENCH_NATIVE_OPTS (run-time flags for the native executable, e.g. "-Xmn256m -Xmx2g")
#   BENCH_PEER_TLS=true (raftkv peers on mutual TLS, certificates made in the temp dir; false: plain TCP; both: a
#   fourth system "raftkv-plain" (the JVM build with plain-TCP peers, ports 9021-9023) alternating with the others in
#   the same run, and a "peer TLS cost" line in the report: what peer TLS costs, with the same noise on both)
#   BENCH_AUTH=1 (raftkv with client authentication on: a random admin token in a tokens file; every raftkv request,
#   wrk's included, carries it as a bearer token, so the figures include the cost of checking it)
set -euo pipefail
SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BENCH_DIR=$ROOT/bench
RESULTS_DIR=$BENCH_DIR/results
JAR=$ROOT/target/quarkus-app/quarkus-run.jar

LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)
QUICK=0
for arg in "$@"; do
  case $arg in
    --quick) QUICK=1 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$SELF"; exit 0 ;;
    *) echo "unknown argument: $arg (try --help)" >&2; exit 2 ;;
  esac
done
if ((QUICK)); then
  RUNS=${BENCH_RUNS:-1} DURATION=${BENCH_DURATION:-3} WARMUP=${BENCH_WARMUP:-0} FAILOVERS=${BENCH_FAILOVERS:-2}
  SYSTEM_WARMUP=${BENCH_SYSTEM_WARMUP:-0}
else
  RUNS=${BENCH_RUNS:-3} DURATION=${BENCH_DURATION:-} WARMUP=${BENCH_WARMUP:-2} FAILOVERS=${BENCH_FAILOVERS:-5}
  SYSTEM_WARMUP=${BENCH_SYSTEM_WARMUP:-30}
fi
KEYS=${BENCH_KEYS:-10000}
VALUE_BYTES=${BENCH_VALUE_BYTES:-256}
LEADER_TIMEOUT=${BENCH_LEADER_TIMEOUT:-60}
JAVA_OPTS=${BENCH_JAVA_OPTS:-}

# Workloads: id | label | kv.lua operation | connections
ROWS=(
  "w1|writes, 1 connection|write|1"
  "w16|writes, 16 connections|write|16"
  "w64|writes, 64 connections|write|64"
  "r1|linearizable reads, 1 connection|read|1"
  "r64|linearizable reads, 64 connections|read|64"
  "s64|stale/serializable reads, 64 connections|stale|64"
  "m64|90/10 read/write mix, 64 connections|mix|64"
)
NODES=(1 2 3)

# --------------------------------------------------------------------------------------------------------------
# Small helpers

START_US=${EPOCHREALTIME//[.,]/}
now_us() { echo "${EPOCHREALTIME//[.,]/}"; }
elapsed() { local s=$((($(now_us) - START_US) / 1000000)); printf '%02d:%02d' $((s / 60)) $((s % 60)); }
progress() { echo "[$(elapsed)] $*" >&2; }
die() { echo "bench: $*" >&2; exit 1; }
note() { echo "- $*" >>"$NOTES"; progress "note: $*"; }
secs() { awk -v us="$1" 'BEGIN { printf "%.2f s", us / 1e6 }'; }                     # microseconds -> "1.23 s"
ms() { awk -v us="$1" 'BEGIN { v = us / 1000; f = v < 10 ? "%.2f ms" : v < 100 ? "%.1f ms" : "%.0f ms"; printf f, v }'; }
thousands() { awk -v n="$1" 'BEGIN { s = sprintf("%d", n + 0.5); while (s ~ /[0-9][0-9][0-9][0-9]/) sub(/[0-9][0-9][0-9]($|,)/, ",&", s); print s }'; }
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR) print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# CPU accounting, to tell whether something else was busy on the machine during the workloads (clock ticks).
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)
cpu_busy_total() { awk '/^cpu / { t = 0; for (i = 2; i <= 9; i++) t += $i; print $2 + $3 + $4 + $7 + $8, t }' /proc/stat; }
cpu_ours() { # the members' CPU time plus this script's finished children (wrk, curl, python3)
  local k v t=0
  for k in "${!PID[@]}"; do v=$(awk '{ print $14 + $15 }' "/proc/${PID[$k]}/stat" 2>/dev/null) && t=$((t + v)); done
  times >"$TMP/times"   # the builtin, in this shell: 2nd line = children's user and system time, e.g. "0m1.250s 0m0.430s"
  v=$(awk -v clk="$CLK_TCK" 'NR == 2 { gsub(/s/, ""); s = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); s += a[1] * 60 + a[2] }
                                       printf "%d", s * clk }' "$TMP/times")
  echo $((t + v))
}

# --------------------------------------------------------------------------------------------------------------
# The systems: raftkv (JVM), raftkv-native (if built) and etcd; members 1..3 of each.

SYSTEMS=(raftkv)
[[ ${BENCH_PEER_TLS:-true} == both ]] && SYSTEMS+=(raftkv-plain)
NATIVE=""
case ${BENCH_NATIVE:-1} in
  0) ;;
  1) for f in "$ROOT"/target/*-runner; do [[ -x $f ]] && NATIVE=$f && SYSTEMS+=(raftkv-native) && break; done ;;
  *) [[ -x $BENCH_NATIVE ]] || { echo "bench: BENCH_NATIVE=$BENCH_NATIVE is not an executable" >&2; exit 2; }
     NATIVE=$BENCH_NATIVE; SYSTEMS+=(raftkv-native) ;;
esac
SYSTEMS+=(etcd)
DURATION=${DURATION:-$(( ${#SYSTEMS[@]} > 2 ? 7 : 10 ))}

kind() { [[ $1 == etcd ]] && echo etcd || echo raftkv; }
client_port() {
  case $1 in raftkv) echo $((9000 + $2)) ;; raftkv-native) echo $((9010 + $2)) ;; raftkv-plain) echo $((9020 + $2)) ;;
             etcd) echo "${2}2379" ;; esac
}
member_name() { [[ $1 == etcd ]] && echo "n$2" || echo "node$2"; }
data_dir() { echo "$TMP/data/$1/$(member_name "$1" "$2")"; }
log_file() { echo "$TMP/logs/$1-$(member_name "$1" "$2").log"; }
url() { echo "http://127.0.0.1:$(client_port "$1" "$2")"; }

declare -A PID=()        # PID[sys/n]

start_member() { # sys n
  local sys=$1 n=$2 peers="" cluster="" m
  mkdir -p "$(data_dir "$sys" "$n")"
  case $sys in
    raftkv|raftkv-native|raftkv-plain)
      for m in "${NODES[@]}"; do peers+="${peers:+,}node$m=$(url "$sys" "$m")"; done
      local cmd=(java $JAVA_OPTS -jar "$TMP/app/quarkus-run.jar")
      # shellcheck disable=SC2206
      [[ $sys == raftkv-native ]] && cmd=("$TMP/app/native-runner" ${BENCH_NATIVE_OPTS:-})
      # Peers on client port + 1000 (10001-10003, 10011-10013, 10021-10023), mutual TLS unless BENCH_PEER_TLS=false
      # (raftkv-plain: never).
      local tls=${BENCH_PEER_TLS:-true}
      [[ $tls == both ]] && tls=true
      [[ $sys == raftkv-plain ]] && tls=false
      [[ $tls == false ]] || bash "$ROOT/scripts/peer-certs.sh" "$TMP/tls" "node$n" >/dev/null
      env "${AUTH_ENV[@]}" QUARKUS_HTTP_HOST=127.0.0.1 QUARKUS_HTTP_PORT=$(client_port "$sys" "$n") RAFTKV_NODE_ID=node$n \
        RAFTKV_PEER_HOST=127.0.0.1 RAFTKV_PEER_TLS=$tls RAFTKV_PEER_TLS_DIR=$TMP/tls \
        RAFTKV_PEERS=$peers RAFTKV_DATA_DIR=$(data_dir "$sys" "$n") "${cmd[@]}" >>"$(log_file "$sys" "$n")" 2>&1 &
      ;;
    etcd)
      for m in "${NODES[@]}"; do cluster+="${cluster:+,}n$m=http://127.0.0.1:${m}2380"; done
      etcd --name "n$n" --data-dir "$(data_dir etcd "$n")" --logger zap \
        --listen-client-urls "$(url etcd "$n")" --advertise-client-urls "$(url etcd "$n")" \
        --listen-peer-urls "http://127.0.0.1:${n}2380" --initial-advertise-peer-urls "http://127.0.0.1:${n}2380" \
        --initial-cluster "$cluster" --initial-cluster-token raftkv-bench --initial-cluster-state new \
        >>"$(log_file etcd "$n")" 2>&1 &
      ;;
  esac
  PID[$sys/$n]=$!
}

alive() { local p=${PID[$1/$2]:-}; [[ -n $p ]] && kill -0 "$p" 2>/dev/null; }

is_leader() { # sys n: does member n say it is the leader?
  local s
  if [[ $1 == etcd ]]; then
    s=$(curl -sf --max-time 1 -X POST -d '{}' "$(url etcd "$2")/v3/maintenance/status") || return 1
    local member=${s#*\"member_id\":\"} leader=${s#*\"leader\":\"}
    [[ ${member%%\"*} == "${leader%%\"*}" ]]
  else
    s=$(curl -sf "${AUTH[@]}" --max-time 1 "$(url "$1" "$2")/v1/status") && [[ $s == *'"role":"leader"'* ]]
  fi
}

healthy() { # sys n: serving and caught up (raftkv readiness: knows a leader, applied ~ all; etcd /health: has a leader)
  local s
  if [[ $1 == etcd ]]; then s=$(curl -sf --max-time 1 "$(url etcd "$2")/health") && [[ $s == *'"health":"true"'* ]]
  else curl -sf --max-time 1 -o /dev/null "$(url "$1" "$2")/q/health/ready"; fi
}

probe_write() { # sys n: one write to member n; succeeds on HTTP 200
  local code
  if [[ $1 == etcd ]]; then
    code=$(curl -s --max-time 2 -o /dev/null -w '%{http_code}' -X POST \
      -d '{"key":"ZmFpbG92ZXItcHJvYmU=","value":"eA=="}' "$(url etcd "$2")/v3/kv/put") || true
  else
    code=$(curl -s "${AUTH[@]}" --max-time 2 -o /dev/null -w '%{http_code}' -X PUT --data-binary x \
      "$(url "$1" "$2")/v1/kv/failover-probe") || true
  fi
  [[ $code == 200 ]]
}

find_leader() { local n; for n in "${NODES[@]}"; do alive "$1" "$n" && is_leader "$1" "$n" && { echo "$n"; return 0; }; done; return 1; }

member_exited() { # sys n: report a member that is gone, with the end of its log
  local sys=$1 n=$2
  [[ -n ${REPORTED_DEAD[$sys/$n]:-} ]] && return 0
  REPORTED_DEAD[$sys/$n]=1
  note "$sys $(member_name "$sys" "$n") (pid ${PID[$sys/$n]}) exited unexpectedly; last log lines:"
  { echo; echo '```'; tail -25 "$(log_file "$sys" "$n")" | cut -c1-300; echo '```'; } >>"$NOTES"
  tail -8 "$(log_file "$sys" "$n")" | cut -c1-300 | sed 's/^/    /' >&2
}
declare -A REPORTED_DEAD=()

wait_leader() { # sys timeout_s -> prints the leader's member number
  local sys=$1 deadline=$(($(now_us) + $2 * 1000000)) n
  while (($(now_us) < deadline)); do
    find_leader "$sys" && return 0
    local up=0
    for n in "${NODES[@]}"; do if alive "$sys" "$n"; then up=$((up + 1)); elif [[ -n ${PID[$sys/$n]:-} ]]; then member_exited "$sys" "$n"; fi; done
    ((up >= 2)) || { echo "bench: $sys: only $up member(s) running, no quorum" >&2; return 1; }
    sleep 0.05
  done
  echo "bench: $sys: no leader within $2 s (logs: $TMP/logs)" >&2
  return 1
}

check_leader() { # sys: follow the leader (and count changes); fails if none
  local sys=$1 n
  n=$(find_leader "$sys") || n=$(wait_leader "$sys" "$LEADER_TIMEOUT") || return 1
  if [[ $n != "${LEADER[$sys]}" ]]; then
    LEADER_CHANGES[$sys]=$((LEADER_CHANGES[$sys] + 1))
    note "$sys: leader changed from $(member_name "$sys" "${LEADER[$sys]}") to $(member_name "$sys" "$n") (before $2 $3)"
    LEADER[$sys]=$n
  fi
}

run_wrk() { # sys op conns seconds outfile -> RESULT line on stdout
  local sys=$1 op=$2 conns=$3 secs=$4 out=$5 threads=$(($3 < 2 ? 1 : 2))
  BENCH_SYSTEM=$(kind "$sys") BENCH_OP=$op BENCH_KEYS=$KEYS BENCH_VALUE_BYTES=$VALUE_BYTES \
    wrk -t"$threads" -c"$conns" -d"${secs}s" --timeout 5s -s "$BENCH_DIR/kv.lua" "$(url "$sys" "${LEADER[$sys]}")" >"$out" 2>&1 &
  WRK_PID=$!
  wait "$WRK_PID" || true
  WRK_PID=""
  grep -m1 '^RESULT' "$out"
}

field() { local v=${1#* $2=}; echo "${v%% *}"; }   # field "RESULT a=1 b=2" b -> 2

# --------------------------------------------------------------------------------------------------------------
# Preflight: tools, build, free ports

need_install=()
command -v etcd >/dev/null || need_install+=(etcd-server etcd-client)
command -v wrk >/dev/null || need_install+=(wrk)
if ((${#need_install[@]})); then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    progress "installing ${need_install[*]} (apt-get)"
    apt-get install -y -q etcd-server etcd-client wrk >/dev/null 2>&1 ||
      { apt-get update -q >/dev/null && apt-get install -y -q etcd-server etcd-client wrk >/dev/null; } ||
      die "apt-get install etcd-server etcd-client wrk failed"
  else
    die "missing ${need_install[*]}: install etcd 3.4 (etcd-server) and wrk, e.g. apt-get install -y etcd-server etcd-client wrk"
  fi
fi
for tool in curl python3 java du awk; do command -v $tool >/dev/null || die "$tool is required"; done

if [[ ${BENCH_NO_BUILD:-0} != 1 ]] && [[ ! -f $JAR || -n $(find src/main pom.xml -newer "$JAR" -type f -print -quit 2>/dev/null) ]]; then
  progress "building raftkv (./mvnw -B -q package -DskipTests)"
  ./mvnw -B -q package -DskipTests >&2 || die "the build failed"
fi
[[ -f $JAR ]] || die "$JAR is missing: run ./mvnw package -DskipTests"

taken=()
for sys in "${SYSTEMS[@]}"; do for n in "${NODES[@]}"; do
  port_taken "$(client_port "$sys" "$n")" && taken+=("$(client_port "$sys" "$n") ($sys $(member_name "$sys" "$n"))")
  [[ $sys == etcd ]] && port_taken "${n}2380" && taken+=("${n}2380 (etcd n$n peer)")
done; done
((${#taken[@]} == 0)) || die "port(s) already in use: ${taken[*]}. Stop whatever listens there (an earlier bench run? ss -ltnp) and retry."

# --------------------------------------------------------------------------------------------------------------
# Temp dir, cleanup on every exit

mkdir -p "$RESULTS_DIR"
TS=$(date -u +%Y%m%dT%H%M%SZ)
REPORT=$RESULTS_DIR/$TS.md
TMP=$(mktemp -d "${BENCH_TMPDIR:-/var/tmp}/raftkv-bench.XXXXXX")
mkdir -p "$TMP/logs" "$TMP/data"
AUTH=(); AUTH_ENV=()
if [[ ${BENCH_AUTH:-0} == 1 ]]; then
  RAFTKV_TOKEN=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n'); export RAFTKV_TOKEN   # kv.lua and fill.py send it
  (umask 077; echo "$RAFTKV_TOKEN bench admin read:* write:*" >"$TMP/tokens")
  AUTH=(-H "Authorization: Bearer $RAFTKV_TOKEN"); AUTH_ENV=(RAFTKV_AUTH_TOKENS_FILE="$TMP/tokens")
fi
RAW=$TMP/runs.tsv          # row sys run ops_per_s p50_us p99_us non2xx sockerr
NOTES=$TMP/notes.md
: >"$RAW"; : >"$NOTES"
WRK_PID=""

cleanup() {
  local rc=$? p k
  trap - EXIT INT TERM
  [[ -n $WRK_PID ]] && kill "$WRK_PID" 2>/dev/null
  for k in "${!PID[@]}"; do kill "${PID[$k]}" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    local any=0
    for k in "${!PID[@]}"; do kill -0 "${PID[$k]}" 2>/dev/null && any=1; done
    ((any)) || break
    sleep 0.1
  done
  for k in "${!PID[@]}"; do kill -9 "${PID[$k]}" 2>/dev/null || true; done
  { wait; } 2>/dev/null || true
  if ((rc != 0 && rc != 130 && rc != 143)) && [[ -d $TMP/logs ]]; then   # failed, not interrupted
    cp -r "$TMP/logs" "$RESULTS_DIR/$TS-logs" && echo "bench: failed (exit $rc); node logs kept in $RESULTS_DIR/$TS-logs" >&2
  fi
  if [[ ${BENCH_KEEP:-0} == 1 ]]; then echo "bench: data and logs kept in $TMP" >&2; else rm -rf "$TMP"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Run a copy of the build, so that a concurrent `mvn package` can't change the jars under the running nodes.
snapshot_build() {
  rm -rf "$TMP/app"; touch "$TMP/app.stamp"
  cp -r "$ROOT/target/quarkus-app" "$TMP/app"
  [[ -z $NATIVE ]] || cp "$NATIVE" "$TMP/app/native-runner"
  [[ -z $(find "$ROOT/target/quarkus-app" ${NATIVE:+"$NATIVE"} -newer "$TMP/app.stamp" -print -quit) ]]
}
snapshot_build || { progress "the build changed while being copied; copying again in 10 s"; sleep 10; snapshot_build; } ||
  die "target/ keeps changing (a build running?); retry when it is done"

# The JVM members map a class-data archive (AppCDS), as the JVM image's do: made once here by `raftkv warm-up` over
# the copied jars (BENCH_APPCDS=0: none, every start loads and links all classes again).
if [[ ${BENCH_APPCDS:-1} != 0 ]]; then
  progress "class-data archive for the JVM members (raftkv warm-up)"
  if java -XX:ArchiveClassesAtExit="$TMP/app/app-cds.jsa" -Xlog:cds=off -Xlog:cds+dynamic=off -jar "$TMP/app/quarkus-run.jar" \
       warm-up "$TMP/warm-up" >"$TMP/logs/warm-up.log" 2>&1 && [[ -s $TMP/app/app-cds.jsa ]]; then
    JAVA_OPTS="-XX:SharedArchiveFile=$TMP/app/app-cds.jsa${JAVA_OPTS:+ $JAVA_OPTS}"
  else
    note "raftkv warm-up failed (JVM members start without a class-data archive): $(tail -3 "$TMP/logs/warm-up.log" | tr '\n' ' ' | cut -c1-300)"
  fi
  rm -rf "$TMP/warm-up"
fi

FS=$(df -PT "$TMP" | awk 'NR == 2 { print $1 " (" $2 ")" }')
[[ $FS == *tmpfs* ]] && progress "warning: $TMP is on tmpfs: fsyncs cost nothing there; set BENCH_TMPDIR to a disk path"
per_row=$(( (RUNS * DURATION + WARMUP) * ${#SYSTEMS[@]} ))
progress "systems: ${SYSTEMS[*]}; ${#ROWS[@]} workloads x ${RUNS} run(s) x ${DURATION} s; data in $TMP on $FS"
progress "expected time: about $(( (per_row * ${#ROWS[@]} + FAILOVERS * ${#SYSTEMS[@]} * 6 + 60) / 60 + 1 )) min"

# --------------------------------------------------------------------------------------------------------------
# 1. Start each cluster (one after the other) and time process start -> first leader

declare -A STARTUP_US=() LEADER=() LEADER_CHANGES=()
for sys in "${SYSTEMS[@]}"; do
  progress "starting $sys (3 members)"
  t0=$(now_us)
  for n in "${NODES[@]}"; do start_member "$sys" "$n"; done
  LEADER[$sys]=$(wait_leader "$sys" "$LEADER_TIMEOUT") || die "$sys did not elect a leader; see the log lines above or $TMP/logs"
  STARTUP_US[$sys]=$(($(now_us) - t0))
  LEADER_CHANGES[$sys]=0
  progress "$sys: leader $(member_name "$sys" "${LEADER[$sys]}") after $(secs "${STARTUP_US[$sys]}")"
  for n in "${NODES[@]}"; do
    deadline=$(($(now_us) + LEADER_TIMEOUT * 1000000))
    until healthy "$sys" "$n"; do
      alive "$sys" "$n" || { member_exited "$sys" "$n"; die "$sys $(member_name "$sys" "$n") exited during start-up"; }
      (($(now_us) < deadline)) || die "$sys $(member_name "$sys" "$n") not healthy within $LEADER_TIMEOUT s"
      sleep 0.1
    done
  done
done

# --------------------------------------------------------------------------------------------------------------
# 2. Pre-populate the keys; du of the data dirs before/after these 10k writes

du_kib() { local sys=$1 n total=0; for n in "${NODES[@]}"; do total=$((total + $(du -sk "$(data_dir "$sys" "$n")" | cut -f1))); done; echo $total; }

io_written() { # sys: bytes the members caused to be written to storage so far (write_bytes of /proc/<pid>/io)
  local n t=0 v
  for n in "${NODES[@]}"; do v=$(awk '/^write_bytes:/ { print $2 }' "/proc/${PID[$1/$n]}/io" 2>/dev/null) && t=$((t + ${v:-0})); done
  echo $t
}

declare -A DISK_BEFORE=() DISK_AFTER=() IO_BEFORE=() IO_AFTER=() RSS=() RSS_IDLE=() FILL_SECS=()
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/${PID[$1/$2]}/status" 2>/dev/null || echo ""; }
for sys in "${SYSTEMS[@]}"; do for n in "${NODES[@]}"; do RSS_IDLE[$sys/$n]=$(rss_kib "$sys" "$n"); done; done
out=""
fill() { # sys: one pass over all keys on the current leader
  check_leader "$1" "pre-population" "" || return 1
  progress "$1: writing $KEYS keys once ($VALUE_BYTES-byte values) to the leader"
  out=$(python3 "$BENCH_DIR/fill.py" "$(kind "$1")" "$(url "$1" "${LEADER[$1]}")" "$KEYS" "$VALUE_BYTES" 16 2>&1)
}
for sys in "${SYSTEMS[@]}"; do
  sync; DISK_BEFORE[$sys]=$(du_kib "$sys"); IO_BEFORE[$sys]=$(io_written "$sys")
  if ! fill "$sys"; then
    note "$sys: pre-population had errors, writing all keys again: $(tr '\n' ' ' <<<"$out" | cut -c1-600)"
    fill "$sys" || note "$sys: pre-population failed again (reads of missing keys will count as errors): $(tr '\n' ' ' <<<"$out" | cut -c1-600)"
  fi
  progress "$sys: ${out##*$'\n'}"
  FILL_SECS[$sys]=$(field "${out##*$'\n'}" secs)
  sleep 1; sync; DISK_AFTER[$sys]=$(du_kib "$sys"); IO_AFTER[$sys]=$(io_written "$sys")
done

# --------------------------------------------------------------------------------------------------------------
# 3. The workloads: for each row, runs alternate between the systems

read -r CPU_BUSY0 CPU_TOTAL0 < <(cpu_busy_total); CPU_OURS0=$(cpu_ours)
LOAD_BEFORE_WORKLOADS=$(cut -d' ' -f1-3 /proc/loadavg)
LOG_MARK=()   # raftkv log line counts when the workloads start, to scan what they logged
for sys in "${SYSTEMS[@]}"; do for n in "${NODES[@]}"; do LOG_MARK+=("$sys/$n=$(wc -l <"$(log_file "$sys" "$n")")"); done; done

# A JIT needs tens of seconds of load to compile the hot paths: give every system the same mixed warm-up once, so
# the first rows measure steady state rather than a cold JVM (BENCH_SYSTEM_WARMUP=0 skips it).
if ((SYSTEM_WARMUP > 0)); then
  for sys in "${SYSTEMS[@]}"; do
    progress "$sys: warm-up, ${SYSTEM_WARMUP} s of the 90/10 mix at 16 connections"
    check_leader "$sys" "warm-up" "" && run_wrk "$sys" mix 16 "$SYSTEM_WARMUP" "$TMP/logs/wrk-system-warmup-$sys.out" >/dev/null || true
  done
fi

row_no=0
for row in "${ROWS[@]}"; do
  IFS='|' read -r id label op conns <<<"$row"
  row_no=$((row_no + 1))
  if ((WARMUP > 0)); then
    for sys in "${SYSTEMS[@]}"; do
      progress "row $row_no/${#ROWS[@]} $label | $sys | warm-up ${WARMUP} s"
      check_leader "$sys" "row $id" "warm-up" && run_wrk "$sys" "$op" "$conns" "$WARMUP" "$TMP/logs/wrk-$id-$sys-warmup.out" >/dev/null || true
    done
  fi
  for run in $(seq 1 "$RUNS"); do
    for sys in "${SYSTEMS[@]}"; do
      progress "row $row_no/${#ROWS[@]} $label | $sys | run $run/$RUNS"
      out=$TMP/logs/wrk-$id-$sys-$run.out
      if ! check_leader "$sys" "row $id" "run $run"; then
        note "$sys: no leader for $label run $run; run skipped"; continue
      fi
      if ! r=$(run_wrk "$sys" "$op" "$conns" "$DURATION" "$out"); then
        note "$sys: wrk failed on $label run $run: $(head -c 300 "$out" | tr '\n' ' ')"; continue
      fi
      ops=$(field "$r" rps) p50=$(field "$r" p50_us) p99=$(field "$r" p99_us)
      non2xx=$(field "$r" non2xx) sockerr=$(field "$r" sockerr)
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$id" "$sys" "$run" "$ops" "$p50" "$p99" "$non2xx" "$sockerr" >>"$RAW"
      progress "    -> $(thousands "$ops") ops/s, p50 $(ms "$p50"), p99 $(ms "$p99"), errors $((non2xx + sockerr))"
      if ((non2xx + sockerr > 0)); then
        note "$sys: $label run $run: $non2xx non-2xx responses, $sockerr socket errors/timeouts; first responses: $(grep '^non-2xx' "$out" | head -3 | tr '\n' ' ' | cut -c1-400)"
      fi
      for n in "${NODES[@]}"; do alive "$sys" "$n" || member_exited "$sys" "$n"; done
    done
  done
  if [[ $id == w64 ]]; then   # RSS per node after the write load
    for sys in "${SYSTEMS[@]}"; do for n in "${NODES[@]}"; do
      RSS[$sys/$n]=$(rss_kib "$sys" "$n")
    done; done
  fi
done

read -r CPU_BUSY1 CPU_TOTAL1 < <(cpu_busy_total); CPU_OURS1=$(cpu_ours)
FOREIGN_CPU=$(awk -v b=$((CPU_BUSY1 - CPU_BUSY0)) -v o=$((CPU_OURS1 - CPU_OURS0)) -v t=$((CPU_TOTAL1 - CPU_TOTAL0)) \
  'BEGIN { f = t > 0 ? (b - o) / t * 100 : 0; printf "%.0f", f < 0 ? 0 : f }')
((FOREIGN_CPU <= 5)) || note "other processes used ${FOREIGN_CPU}% of the machine's CPU during the workloads (load average before them: $LOAD_BEFORE_WORKLOADS): the figures are disturbed; rerun on a quiet machine"

# What raftkv logged at WARN/ERROR during the workloads (its own log format: "HH:mm:ss.SSS LEVEL [category] (thread) msg")
LOG_SCAN=$TMP/log-scan.txt
: >"$LOG_SCAN"
for mark in "${LOG_MARK[@]}"; do
  key=${mark%%=*} from=${mark#*=} sys=${key%/*} n=${key#*/}
  [[ $(kind "$sys") == raftkv ]] || continue
  tail -n +"$((from + 1))" "$(log_file "$sys" "$n")" | grep -E '^[0-9:.]+ +(WARN|ERROR)' |
    sed -E "s/^[0-9:.]+ +/$sys $(member_name "$sys" "$n"): /" >>"$LOG_SCAN" || true
done

# --------------------------------------------------------------------------------------------------------------
# 4. Failover: SIGKILL the leader, time until another member acknowledges a write; restart it, wait until healthy

declare -A FAILOVER_MS=() RECOVER_MS=()
failover_once() { # sys rep
  local sys=$1 rep=$2 old n t0 t1="" deadline
  old=$(find_leader "$sys") || old=$(wait_leader "$sys" "$LEADER_TIMEOUT") || { note "$sys: no leader before failover $rep"; return 1; }
  progress "failover $rep/$FAILOVERS | $sys | SIGKILL $(member_name "$sys" "$old")"
  t0=$(now_us)
  kill -9 "${PID[$sys/$old]}"
  { wait "${PID[$sys/$old]}"; } 2>/dev/null || true   # reap it quietly (no "Killed" line)
  deadline=$((t0 + 30000000))
  while [[ -z $t1 ]] && (($(now_us) < deadline)); do
    for n in "${NODES[@]}"; do
      [[ $n == "$old" ]] && continue
      if is_leader "$sys" "$n" && probe_write "$sys" "$n"; then t1=$(now_us); LEADER[$sys]=$n; break; fi
    done
    [[ -n $t1 ]] || sleep 0.02
  done
  if [[ -n $t1 ]]; then
    FAILOVER_MS[$sys]+="$(( (t1 - t0) / 1000 )) "
    progress "    -> write acknowledged by $(member_name "$sys" "${LEADER[$sys]}") after $(secs $((t1 - t0)))"
  else
    note "$sys: failover $rep: no write acknowledged within 30 s"
  fi
  t0=$(now_us)
  start_member "$sys" "$old"
  deadline=$((t0 + LEADER_TIMEOUT * 1000000))
  until healthy "$sys" "$old"; do
    alive "$sys" "$old" || { member_exited "$sys" "$old"; return 1; }
    (($(now_us) < deadline)) || { note "$sys: restarted $(member_name "$sys" "$old") not healthy within $LEADER_TIMEOUT s"; return 1; }
    sleep 0.05
  done
  RECOVER_MS[$sys]+="$(( ($(now_us) - t0) / 1000 )) "
}

for rep in $(seq 1 "$FAILOVERS"); do
  for sys in "${SYSTEMS[@]}"; do failover_once "$sys" "$rep" || true; done
done

# --------------------------------------------------------------------------------------------------------------
# 4b. Retrying clients under a nemesis: every 2-4 s a random member is SIGKILLed (restarted 1 s later) or paused
#     (SIGSTOP, SIGCONT after 1-3 s), while bench/RetryingClients.java writes unique keys and retries each write
#     until it is acknowledged (raftkv: with session headers). Reports the share of requests answered 2xx, the
#     longest gap without an acknowledged write, duplicates (writes applied twice) and acknowledged writes lost.

NEMESIS_SECONDS=${BENCH_NEMESIS_SECONDS:-$(( QUICK ? 10 : 40 ))}
declare -A NEMESIS=()
nemesis_run() { # sys
  local sys=$1 endpoints="" n out victim pick
  for n in "${NODES[@]}"; do endpoints+="${endpoints:+,}$(url "$sys" "$n")"; done
  out=$TMP/nemesis-$sys.txt
  progress "nemesis | $sys | $NEMESIS_SECONDS s, 4 retrying clients"
  java "$BENCH_DIR/RetryingClients.java" "$(kind "$sys")" "$NEMESIS_SECONDS" 4 "$endpoints" >"$out" 2>&1 &
  local client=$! end=$(($(now_us) + NEMESIS_SECONDS * 1000000))
  RANDOM=7
  while (($(now_us) < end)); do
    sleep "$((2 + RANDOM % 3))"
    victim=${NODES[$((RANDOM % ${#NODES[@]}))]}
    pick=$((RANDOM % 2))
    if ((pick == 0)); then
      kill -9 "${PID[$sys/$victim]}" 2>/dev/null || true
      { wait "${PID[$sys/$victim]}"; } 2>/dev/null || true
      sleep 1
      start_member "$sys" "$victim"
    else
      kill -STOP "${PID[$sys/$victim]}" 2>/dev/null || true
      sleep "$((1 + RANDOM % 3))"
      kill -CONT "${PID[$sys/$victim]}" 2>/dev/null || true
    fi
  done
  wait "$client" || true
  NEMESIS[$sys]=$(grep '^RESULT' "$out" || echo "RESULT failed")
  progress "    -> ${NEMESIS[$sys]}"
  for n in "${NODES[@]}"; do                                 # every member back and caught up before going on
    alive "$sys" "$n" || start_member "$sys" "$n"
  done
  wait_leader "$sys" "$LEADER_TIMEOUT" >/dev/null || note "$sys: no leader after the nemesis"
}
if command -v java >/dev/null; then
  for sys in "${SYSTEMS[@]}"; do nemesis_run "$sys" || true; done
fi

# --------------------------------------------------------------------------------------------------------------
# 5. The report

col() { # row sys column(4=ops 5=p50 6=p99) -> median over the runs
  awk -F'\t' -v r="$1" -v s="$2" -v c="$3" '$1 == r && $2 == s { print $c }' "$RAW" | median
}
errors_of() { awk -F'\t' -v r="$1" -v s="$2" '($1 == r || r == "*") && $2 == s { e += $7 + $8 } END { print e + 0 }' "$RAW"; }
ms_list_summary() { # "1200 900 1500 " -> "median 1.20 s, max 1.50 s (n=3)"
  [[ -z ${1// /} ]] && { echo "n/a"; return; }
  local med max cnt
  med=$(tr ' ' '\n' <<<"$1" | grep . | median); max=$(tr ' ' '\n' <<<"$1" | grep . | sort -g | tail -1)
  cnt=$(wc -w <<<"$1")
  echo "median $(secs $((${med%.*} * 1000))), max $(secs $((max * 1000))) (n=$cnt)"
}
etcd_sys=etcd
raftkv_systems=(); for sys in "${SYSTEMS[@]}"; do [[ $sys != etcd ]] && raftkv_systems+=("$sys"); done

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[[ -n $(git status --porcelain -- . ':(exclude)bench/results' 2>/dev/null) ]] && commit+=" (dirty)"

{
  echo "# raftkv vs etcd benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  ((QUICK)) && { echo "**Quick mode (smoke test): 1 short run per workload; do not compare these numbers.**"; echo; }
  echo "- machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, data on $FS"
  echo "- machine load: load average $LOAD_AT_START when the script started; other processes used ${FOREIGN_CPU}% of the CPU during the workloads (~0 on a quiet machine)"
  echo "- raftkv: commit $commit, $(java -version 2>&1 | head -1)${JAVA_OPTS:+ run with ${JAVA_OPTS//$TMP\//}}${NATIVE:+, native executable $(basename "$NATIVE")${BENCH_NATIVE_OPTS:+ run with $BENCH_NATIVE_OPTS}}"
  echo "- etcd: $(etcd --version 2>/dev/null | head -1 | sed 's/etcd Version: //') (defaults: heartbeat 100 ms, election 1000 ms); load: $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
  echo "- workload: $KEYS keys, $VALUE_BYTES-byte values, random keys, wrk + bench/kv.lua on the leader, 1 wrk thread for 1 connection else 2;" \
       "$RUNS run(s) x $DURATION s per row and system, alternating$( ((WARMUP)) && echo ", after a $WARMUP s warm-up")$( ((SYSTEM_WARMUP)) && echo "; each system first warmed up with ${SYSTEM_WARMUP} s of the 90/10 mix"); medians of the runs"
  echo
  printf '| workload |'
  for sys in "${SYSTEMS[@]}"; do printf ' %s ops/s | p50 | p99 |' "$sys"; done
  for sys in "${raftkv_systems[@]}"; do printf ' ratio (%s/etcd ops/s) |' "$sys"; done
  echo
  printf '|---|'; for _ in "${SYSTEMS[@]}"; do printf -- '--:|--:|--:|'; done; for _ in "${raftkv_systems[@]}"; do printf -- '--:|'; done; echo
  for row in "${ROWS[@]}"; do
    IFS='|' read -r id label op conns <<<"$row"
    printf '| %s |' "$label"
    declare -A med=()
    for sys in "${SYSTEMS[@]}"; do
      med[$sys]=$(col "$id" "$sys" 4)
      if [[ -z ${med[$sys]} ]]; then printf ' failed | | |'; continue; fi
      e=$(errors_of "$id" "$sys")
      printf ' %s%s | %s | %s |' "$(thousands "${med[$sys]}")" "$( ((e)) && echo " ($e errors)")" \
        "$(ms "$(col "$id" "$sys" 5)")" "$(ms "$(col "$id" "$sys" 6)")"
    done
    for sys in "${raftkv_systems[@]}"; do
      if [[ -n ${med[$sys]} && -n ${med[$etcd_sys]} ]]; then
        printf ' %s |' "$(awk -v a="${med[$sys]}" -v b="${med[$etcd_sys]}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "n/a" }')"
      else printf ' n/a |'; fi
    done
    echo
    unset med
  done
  echo
  echo "ops/s counts 2xx responses only; errors = non-2xx responses + socket errors/timeouts (wrk --timeout 5s)."
  if [[ " ${SYSTEMS[*]} " == *" raftkv-plain "* ]]; then
    echo
    printf 'Peer TLS cost (raftkv, mutual-TLS peers, against raftkv-plain, the same build with plain-TCP peers; ops/s):'
    for row in "${ROWS[@]}"; do
      IFS='|' read -r id label op conns <<<"$row"
      a=$(col "$id" raftkv 4); b=$(col "$id" raftkv-plain 4)
      [[ -n $a && -n $b ]] && printf ' %s %s;' "$label" "$(awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%+.1f%%", 100 * (a - b) / b; else printf "n/a" }')"
    done
    echo
  fi
  echo
  echo "## Other measurements"
  echo
  printf '| measurement |'; for sys in "${SYSTEMS[@]}"; do printf ' %s |' "$sys"; done; echo
  printf '|---|'; for _ in "${SYSTEMS[@]}"; do printf -- '---|'; done; echo
  printf '| process start -> first leader (3 members started together) |'
  for sys in "${SYSTEMS[@]}"; do printf ' %s |' "$(secs "${STARTUP_US[$sys]}")"; done; echo
  printf '| failover: SIGKILL leader -> first write acknowledged by another member |'
  for sys in "${SYSTEMS[@]}"; do printf ' %s |' "$(ms_list_summary "${FAILOVER_MS[$sys]:-}")"; done; echo
  printf '| retrying clients under a nemesis (%s s; kill -9 or SIGSTOP a random member every 2-4 s): requests answered 2xx, longest gap without an acknowledged write, writes applied twice, acknowledged writes lost, what the other requests got (HTTP status, refused, timeout, io) |' "$NEMESIS_SECONDS"
  for sys in "${SYSTEMS[@]}"; do
    r=${NEMESIS[$sys]:-}
    if [[ $r == *requests=* ]]; then
      printf ' %s%% of %s, %s ms, %s duplicates, %s lost (not 2xx: %s) |' "$(awk -v o="$(field "$r" ok)" -v q="$(field "$r" requests)" 'BEGIN { printf "%.1f", 100 * o / (q ? q : 1) }')" \
        "$(thousands "$(field "$r" requests)")" "$(thousands "$(field "$r" maxgap_ms)")" "$(field "$r" duplicates)" "$(field "$r" lost)" \
        "$(field "$r" failures | sed 's/:/ ×/g; s/,/, /g')"
    else printf ' n/a |'; fi
  done; echo
  printf '| killed member restarted -> healthy again |'
  for sys in "${SYSTEMS[@]}"; do printf ' %s |' "$(ms_list_summary "${RECOVER_MS[$sys]:-}")"; done; echo
  printf '| RSS per member idle, after start-up (node1 / node2 / node3) |'
  for sys in "${SYSTEMS[@]}"; do
    printf ' %s |' "$(for n in "${NODES[@]}"; do v=${RSS_IDLE[$sys/$n]:-}; [[ -n $v ]] && printf '%d MB' $((v / 1024)) || printf '?'; ((n < 3)) && printf ' / '; done)"
  done; echo
  printf '| RSS per member after the write rows (node1 / node2 / node3) |'
  for sys in "${SYSTEMS[@]}"; do
    printf ' %s |' "$(for n in "${NODES[@]}"; do v=${RSS[$sys/$n]:-}; [[ -n $v ]] && printf '%d MB' $((v / 1024)) || printf '?'; ((n < 3)) && printf ' / '; done)"
  done; echo
  printf '| container image (docker image inspect; raftkv:jvm, raftkv:native) |'
  for sys in "${SYSTEMS[@]}"; do
    case $sys in raftkv|raftkv-plain) img=raftkv:jvm ;; raftkv-native) img=raftkv:native ;; *) img= ;; esac
    sz=$([[ -n $img ]] && docker image inspect -f '{{.Size}}' "$img" 2>/dev/null | awk '{ printf "%.0f MB", $1 / 1e6 }' || true)
    printf ' %s |' "${sz:-n/a}"
  done; echo
  printf '| disk growth for %s writes (du of the 3 data dirs before/after pre-population) |' "$(thousands "$KEYS")"
  for sys in "${SYSTEMS[@]}"; do
    d=$(( (DISK_AFTER[$sys] - DISK_BEFORE[$sys]) * 1024 ))
    printf ' %s MB total, %s B per write per member |' "$(awk -v b="$d" 'BEGIN { printf "%.1f", b / 1e6 }')" \
      "$(thousands $((d / 3 / KEYS)))"
  done; echo
  printf '| bytes written to disk for these %s writes (write_bytes in /proc/<pid>/io, 3 members) |' "$(thousands "$KEYS")"
  for sys in "${SYSTEMS[@]}"; do
    d=$((IO_AFTER[$sys] - IO_BEFORE[$sys]))
    printf ' %s MB total, %s B per write per member |' "$(awk -v b="$d" 'BEGIN { printf "%.1f", b / 1e6 }')" \
      "$(thousands $((d / 3 / KEYS)))"
  done; echo
  printf '| pre-population: %s writes on the fresh cluster, 16 connections (bench/fill.py) |' "$(thousands "$KEYS")"
  for sys in "${SYSTEMS[@]}"; do
    f=${FILL_SECS[$sys]:-}
    if [[ $f =~ ^[0-9.]+$ ]]; then printf ' %s s (%s writes/s) |' "$f" "$(thousands "$(awk -v k="$KEYS" -v f="$f" 'BEGIN { print k / f }')")"
    else printf ' failed |'; fi
  done; echo
  printf '| data dirs (3 members) before -> after pre-population |'
  for sys in "${SYSTEMS[@]}"; do
    printf ' %s -> %s MB |' "$(awk -v k="${DISK_BEFORE[$sys]}" 'BEGIN { printf "%.1f", k * 1024 / 1e6 }')" \
      "$(awk -v k="${DISK_AFTER[$sys]}" 'BEGIN { printf "%.1f", k * 1024 / 1e6 }')"
  done; echo
  printf '| errors over all workload runs |'; for sys in "${SYSTEMS[@]}"; do printf ' %s |' "$(errors_of '*' "$sys")"; done; echo
  printf '| leader changes during the workloads |'; for sys in "${SYSTEMS[@]}"; do printf ' %s |' "${LEADER_CHANGES[$sys]}"; done; echo
  echo
  echo "etcd preallocates its WAL in 64 MB segments (two per member at start), so its du shows mostly bbolt's growth, in steps;" \
       "write_bytes counts everything each process wrote (WAL, data files, rewrites)."
  echo
  echo "## Notes"
  echo
  if [[ -s $NOTES ]]; then cat "$NOTES"; else echo "- none: no errors, no leader changes, no member exited"; fi
  if [[ -s $LOG_SCAN ]]; then
    echo "- raftkv logged $(wc -l <"$LOG_SCAN") WARN/ERROR line(s) during the workloads; most frequent (count, message without timestamp):"
    echo
    echo '```'
    sed -E 's/\(([^)]*)\)//' "$LOG_SCAN" | cut -c1-220 | sort | uniq -c | sort -rn | head -15
    echo '```'
  else
    echo "- raftkv logged no WARN/ERROR lines during the workloads"
  fi
  echo
  echo "<details><summary>All runs</summary>"
  echo
  echo "| workload | system | run | ops/s | p50 | p99 | non-2xx | socket errors |"
  echo "|---|---|--:|--:|--:|--:|--:|--:|"
  while IFS=$'\t' read -r id sys run ops p50 p99 non2xx sockerr; do
    echo "| $id | $sys | $run | $(thousands "$ops") | $(ms "$p50") | $(ms "$p99") | $non2xx | $sockerr |"
  done <"$RAW"
  echo
  echo "</details>"
  echo
  echo "Total time $(elapsed) (mm:ss). Generated by bench/run.sh$( ((QUICK)) && echo " --quick")."
} >"$REPORT"

echo >&2
cat "$REPORT"
echo
echo "saved: ${REPORT#"$ROOT"/}"
