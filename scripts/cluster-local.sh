#!/usr/bin/env bash
# Runs a local 3-node raftkv cluster as plain JVM processes (no Docker): client ports 8001-8003, peer ports 9001-9003
# (mutual TLS, certificates created on first use in ./data/tls by scripts/peer-certs.sh), data in ./data/nodeN,
# logs in ./data/nodeN.log, pids in ./data/nodeN.pid. Needs a JDK 17+ (the build uses ./mvnw) and openssl.
# PEER_TLS=false runs the peers without TLS (experiments only).
# NATIVE=1 runs the native executable instead (target/*-runner, built by `make native`).
#
#   scripts/cluster-local.sh start            build if needed, start all three nodes, wait for a leader
#   scripts/cluster-local.sh start-node N     start node N only (e.g. after killing it)
#   scripts/cluster-local.sh kill-node N      SIGKILL node N (a crash: nothing is flushed)
#   scripts/cluster-local.sh stop             stop all nodes (SIGTERM, then SIGKILL after 10 s)
#   scripts/cluster-local.sh status           print each node's /v1/status line
#   scripts/cluster-local.sh add-node N       start node N (N >= 4, port 800N) as a joining member, add it through
#                                             POST /v1/members (it catches up as a learner and is promoted)
#   scripts/cluster-local.sh remove-node N    remove node N through DELETE /v1/members/nodeN, then stop it
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DATA=${RAFTKV_LOCAL_DATA:-$ROOT/data}
JAR=$ROOT/target/quarkus-app/quarkus-run.jar
NODES=(1 2 3)
PEERS="node1=http://127.0.0.1:8001,node2=http://127.0.0.1:8002,node3=http://127.0.0.1:8003"
# Members added with add-node are marked by data/nodeN.member; they join NODES and, for nodes started later, PEERS.
for f in "$DATA"/node*.member; do
  [[ -e $f ]] || continue
  n=${f##*/node}; n=${n%.member}
  NODES+=("$n"); PEERS+=",node$n=http://127.0.0.1:800$n"
done

RUNNER=$(ls -t "$ROOT"/target/*-runner 2>/dev/null | head -1 || true)

build_if_needed() {
  if [[ ${NATIVE:-} == 1 ]]; then
    [[ -n $RUNNER && -x $RUNNER ]] || { echo "NATIVE=1 but no native executable in target/: run 'make native' first" >&2; exit 1; }
    return
  fi
  if [[ ! -f $JAR || -n $(find src pom.xml -newer "$JAR" -type f -print -quit 2>/dev/null) ]]; then
    echo "building raftkv (./mvnw package -DskipTests) ..."
    ./mvnw -B -q package -DskipTests
  fi
}

pid_of() { local f=$DATA/node$1.pid; [[ -f $f ]] && cat "$f" || true; }
alive() { local p; p=$(pid_of "$1"); [[ -n $p ]] && kill -0 "$p" 2>/dev/null; }

# With client authentication on (RAFTKV_AUTH_TOKENS_FILE), RAFTKV_TOKEN is the token this script sends (admin).
AUTH=(); [[ -z ${RAFTKV_TOKEN:-} ]] || AUTH=(-H "Authorization: Bearer $RAFTKV_TOKEN")

http_get() { # url -> body on stdout, fails if unreachable; uses curl when present, else the JDK
  if command -v curl >/dev/null; then curl -fsS "${AUTH[@]}" --max-time 2 "$1"; else
    java "$ROOT/scripts/HttpGet.java" "$1"; fi
}

start_node() {
  local n=$1
  if alive "$n"; then echo "node$n already running (pid $(pid_of "$n"))"; return; fi
  for port in 800$n 900$n; do
    if ss -ltn 2>/dev/null | grep -q ":$port "; then
      echo "port $port is taken by another process; stop it first" >&2; exit 1
    fi
  done
  mkdir -p "$DATA"
  if [[ ${PEER_TLS:-true} != false ]]; then
    bash "$ROOT/scripts/peer-certs.sh" "$DATA/tls" "node$n" >/dev/null
  fi
  local cmd=(java -Dsun.net.inetaddr.ttl=1 -jar "$JAR") kind=jvm
  if [[ ${NATIVE:-} == 1 ]]; then cmd=("$RUNNER" -Dsun.net.inetaddr.ttl=1 -Dsun.net.inetaddr.negative.ttl=0); kind=native; fi
  local peers=$PEERS
  [[ ,$peers, == *",node$n="* ]] || peers+=",node$n=http://127.0.0.1:800$n"
  # QUARKUS_HTTP_SSL_PORT: node N serves HTTPS on 844N when client TLS is configured (README, Security).
  QUARKUS_HTTP_PORT=800$n QUARKUS_HTTP_SSL_PORT=844$n RAFTKV_NODE_ID=node$n RAFTKV_PEERS=$peers RAFTKV_DATA_DIR="$DATA/node$n" \
    RAFTKV_PEER_TLS=${PEER_TLS:-true} RAFTKV_PEER_TLS_DIR="$DATA/tls" \
    RAFTKV_INITIAL_CLUSTER_STATE=${INITIAL_CLUSTER_STATE:-new} nohup "${cmd[@]}" >>"$DATA/node$n.log" 2>&1 &
  echo $! >"$DATA/node$n.pid"
  echo $kind >"$DATA/node$n.kind"
  echo "node$n started ($kind): pid $!, http://127.0.0.1:800$n, peers on :900$n, data $DATA/node$n, log $DATA/node$n.log"
}

wait_live() {
  local n=$1 deadline=$((SECONDS + 60))
  until http_get "http://127.0.0.1:800$n/q/health/live" >/dev/null 2>&1; do
    if ! alive "$n"; then echo "node$n exited; last log lines:" >&2; tail -20 "$DATA/node$n.log" >&2; exit 1; fi
    if ((SECONDS > deadline)); then echo "node$n did not come up within 60 s" >&2; exit 1; fi
    sleep 0.2
  done
}

wait_leader() {
  local deadline=$((SECONDS + 30))
  while ((SECONDS < deadline)); do
    for n in "${NODES[@]}"; do
      if http_get "http://127.0.0.1:800$n/v1/status" 2>/dev/null | grep -q '"role":"leader"'; then
        echo "leader: node$n"; return 0
      fi
    done
    sleep 0.2
  done
  echo "no leader elected within 30 s" >&2; return 1
}

stop_node() {
  local n=$1 p; p=$(pid_of "$n")
  if [[ -n $p ]] && kill -0 "$p" 2>/dev/null; then
    kill "$p"
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$p" 2>/dev/null && kill -9 "$p" || true
    echo "node$n stopped"
  fi
  rm -f "$DATA/node$n.pid"
}

leader_port() {
  for n in "${NODES[@]}"; do
    if http_get "http://127.0.0.1:800$n/v1/status" 2>/dev/null | grep -q '"role":"leader"'; then echo "800$n"; return 0; fi
  done
  return 1
}

need_curl() { command -v curl >/dev/null || { echo "add-node and remove-node need curl" >&2; exit 1; }; }

case "${1:-}" in
  start)
    build_if_needed
    for n in "${NODES[@]}"; do start_node "$n"; done
    for n in "${NODES[@]}"; do wait_live "$n"; done
    wait_leader
    echo "cluster up. Try (with auth on, add -H \"Authorization: Bearer \$RAFTKV_TOKEN\"): curl -X PUT localhost:8001/v1/kv/hello -d world -L; curl localhost:8001/v1/kv/hello -L"
    ;;
  start-node)
    # Restarted as it last ran (the demo restarts a killed node) unless NATIVE says otherwise.
    [[ -n ${NATIVE:-} || ! -f $DATA/node$2.kind ]] || { [[ $(cat "$DATA/node$2.kind") == native ]] && NATIVE=1 || NATIVE=0; }
    [[ -f $JAR && ${NATIVE:-} != 1 ]] || build_if_needed; start_node "$2"; wait_live "$2" ;;
  kill-node) p=$(pid_of "$2"); [[ -n $p ]] && kill -9 "$p" && echo "node$2 killed (SIGKILL, pid $p)"; rm -f "$DATA/node$2.pid" ;;
  add-node)
    n=${2:?usage: add-node N}; need_curl
    [[ $n =~ ^[0-9]$ && $n -ge 4 ]] || { echo "N must be a digit from 4 to 9 (port 800N)" >&2; exit 2; }
    [[ -f $DATA/node$n.member ]] && { echo "node$n is already a member" >&2; exit 1; }
    build_if_needed
    INITIAL_CLUSTER_STATE=existing start_node "$n"; wait_live "$n"
    port=$(leader_port) || { echo "no leader: cannot add node$n" >&2; exit 1; }
    curl -fsS "${AUTH[@]}" -L -X POST "http://127.0.0.1:$port/v1/members" -H 'Content-Type: application/json' \
      -d "{\"id\":\"node$n\",\"url\":\"http://127.0.0.1:800$n\"}"; echo
    touch "$DATA/node$n.member"
    deadline=$((SECONDS + 60))
    until curl -fsS "${AUTH[@]}" "http://127.0.0.1:$port/v1/members" 2>/dev/null | grep -q "\"id\":\"node$n\",[^}]*\"role\":\"voter\""; do
      ((SECONDS < deadline)) || { echo "node$n was added but not promoted within 60 s (see GET /v1/members)" >&2; exit 1; }
      sleep 0.5
    done
    echo "node$n is a voter" ;;
  remove-node)
    n=${2:?usage: remove-node N}; need_curl
    port=$(leader_port) || { echo "no leader: cannot remove node$n" >&2; exit 1; }
    curl -fsS "${AUTH[@]}" -L -X DELETE "http://127.0.0.1:$port/v1/members/node$n"; echo
    stop_node "$n"; rm -f "$DATA/node$n.member"
    echo "node$n removed (its data stays in $DATA/node$n: delete it before reusing the id)" ;;
  stop) for n in "${NODES[@]}"; do stop_node "$n"; done ;;
  status) for n in "${NODES[@]}"; do printf 'node%s: ' "$n"; http_get "http://127.0.0.1:800$n/v1/status" 2>/dev/null || echo "down"; echo; done ;;
  *) sed -n '2,10p' "$0"; exit 2 ;;
esac
