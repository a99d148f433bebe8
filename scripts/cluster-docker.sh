#!/usr/bin/env bash
# A 3-node raftkv cluster in Docker containers: scripts/cluster-docker.sh up|down|logs|status|add-node N|remove-node N
#
#   up      user network raftkv-net; containers node1..node3 (DNS aliases node1..node3) on named volumes
#           raftkv-node1..3; client port 8080 of nodeN published on 127.0.0.1:$((PORT_BASE + N))
#           (8101..8103; `make run` uses 8001..8003); waits until every node answers /q/health/live. Peers talk
#           on port 9080 inside the network only, with mutual TLS: the CA and node certificates are created on
#           first use in $TLS_DIR (data/docker-tls) by scripts/peer-certs.sh and mounted read-only in /tls
#   down    removes the containers and the network, and the volumes unless KEEP_DATA=1
#   logs    the last $TAIL lines (default 100) of each node; FOLLOW=1 follows all three
#   status  `docker ps` of the nodes and each one's /v1/status
#   add-node N     start nodeN (N > NODES, port PORT_BASE+N, volume raftkv-nodeN) as a joining member and add it
#                  through POST /v1/members on the leader; the leader promotes it once caught up
#   remove-node N  DELETE /v1/members/nodeN on the leader, then remove its container (and its volume)
#
# Variables: IMAGE (raftkv:jvm; raftkv:native for the native image), NETWORK (raftkv-net), PORT_BASE (8100),
# NODES (3), BIND (127.0.0.1), WAIT (60 s), RAFTKV_HEARTBEAT_INTERVAL / RAFTKV_ELECTION_TIMEOUT (passed on
# when set), DOCKER_RUN_ARGS (extra `docker run` flags, e.g. "--memory 512m"), TLS_DIR (data/docker-tls),
# PEER_TLS (true; false runs the peers without TLS, for experiments only).
set -euo pipefail

IMAGE=${IMAGE:-raftkv:jvm}
NETWORK=${NETWORK:-raftkv-net}
PORT_BASE=${PORT_BASE:-8100}
NODES=${NODES:-3}
BIND=${BIND:-127.0.0.1}
WAIT=${WAIT:-60}
LABEL=io.raftkv.cluster=docker
TLS_DIR=${TLS_DIR:-$(cd "$(dirname "$0")/.." && pwd)/data/docker-tls}
PEER_TLS=${PEER_TLS:-true}

log() { echo "[cluster] $*" >&2; }
# With client authentication on in the nodes (e.g. DOCKER_RUN_ARGS="-v $PWD/tokens:/tokens:ro -e
# RAFTKV_AUTH_TOKENS_FILE=/tokens"), RAFTKV_TOKEN is the (admin) token this script sends to /v1/.
AUTH=(); [ -z "${RAFTKV_TOKEN:-}" ] || AUTH=(-H "Authorization: Bearer $RAFTKV_TOKEN")
# The initial nodes and those added with add-node (their containers carry io.raftkv.node=N).
nodes() {
    { seq 1 "$NODES"; docker ps -a --filter "label=$LABEL" --format '{{index .Labels "io.raftkv.node"}}' 2>/dev/null; } |
        grep -E '^[0-9]+$' | sort -nu
}

peers() {
    local n list=()
    for n in $(nodes) ${1:-}; do list+=("node$n=http://node$n:8080"); done
    local IFS=,; echo "${list[*]}"
}

# docker run flags for node $1's peer TLS: its files (created on first use) mounted read-only in /tls.
tls_args() {
    if [ "$PEER_TLS" = false ]; then
        echo "-e RAFTKV_PEER_TLS=false"
        return
    fi
    bash "$(dirname "$0")/peer-certs.sh" "$TLS_DIR" "node$1" >/dev/null
    echo "-v $TLS_DIR/ca.crt:/tls/ca.crt:ro -v $TLS_DIR/node$1.crt:/tls/node$1.crt:ro -v $TLS_DIR/node$1.key:/tls/node$1.key:ro"
}

# Remove a container only if this script made it (it carries our label).
remove_node() {
    local name=$1
    if docker container inspect "$name" >/dev/null 2>&1; then
        if [ "$(docker container inspect -f "{{index .Config.Labels \"${LABEL%%=*}\"}}" "$name")" = "${LABEL#*=}" ]; then
            docker rm -f "$name" >/dev/null
        else
            log "a container named $name exists and is not ours: remove it by hand"; return 1
        fi
    fi
}

up() {
    docker image inspect "$IMAGE" >/dev/null 2>&1 ||
        { log "image $IMAGE not found: run 'make image' (or 'make native')"; exit 1; }
    docker network inspect "$NETWORK" >/dev/null 2>&1 ||
        docker network create --label "$LABEL" "$NETWORK" >/dev/null
    local n env=() extra=()
    [ -n "${RAFTKV_HEARTBEAT_INTERVAL:-}" ] && env+=(-e "RAFTKV_HEARTBEAT_INTERVAL=$RAFTKV_HEARTBEAT_INTERVAL")
    [ -n "${RAFTKV_ELECTION_TIMEOUT:-}" ] && env+=(-e "RAFTKV_ELECTION_TIMEOUT=$RAFTKV_ELECTION_TIMEOUT")
    # shellcheck disable=SC2206  # word splitting of user-supplied flags is intended
    [ -n "${DOCKER_RUN_ARGS:-}" ] && extra=($DOCKER_RUN_ARGS)
    for n in $(nodes); do
        remove_node "node$n"
        docker volume create --label "$LABEL" "raftkv-node$n" >/dev/null
        docker run -d --name "node$n" --hostname "node$n" --label "$LABEL" \
            --network "$NETWORK" --network-alias "node$n" \
            -p "$BIND:$((PORT_BASE + n)):8080" \
            -v "raftkv-node$n:/data" \
            -e "RAFTKV_NODE_ID=node$n" \
            -e "RAFTKV_ADVERTISE_URL=http://node$n:8080" \
            -e "RAFTKV_PEERS=$(peers)" \
            $(tls_args "$n") \
            "${env[@]}" "${extra[@]}" "$IMAGE" >/dev/null
        log "node$n started ($IMAGE) -> http://$BIND:$((PORT_BASE + n))"
    done
    local deadline=$((SECONDS + WAIT)) pending
    while :; do
        pending=()
        for n in $(nodes); do
            curl -fsS -o /dev/null --max-time 2 "http://$BIND:$((PORT_BASE + n))/q/health/live" 2>/dev/null ||
                pending+=("node$n")
        done
        [ ${#pending[@]} -eq 0 ] && break
        if [ $SECONDS -ge $deadline ]; then
            log "not live after ${WAIT}s: ${pending[*]} (see 'make cluster-logs')"; exit 1
        fi
        sleep 0.5
    done
    log "all $NODES nodes live; client API at http://$BIND:$((PORT_BASE + 1))..$((PORT_BASE + NODES))/v1/"
}

down() {
    local n
    for n in $(nodes); do remove_node "node$n"; done
    if docker network inspect "$NETWORK" >/dev/null 2>&1; then docker network rm "$NETWORK" >/dev/null; fi
    if [ "${KEEP_DATA:-0}" = 1 ]; then
        log "containers and network removed; volumes raftkv-node1..$NODES kept (KEEP_DATA=1)"
    else
        for n in $(nodes); do docker volume rm -f "raftkv-node$n" >/dev/null 2>&1 || true; done
        log "containers, network and volumes removed"
    fi
}

logs() {
    local n
    if [ "${FOLLOW:-0}" = 1 ]; then
        trap 'kill $(jobs -p) 2>/dev/null' INT TERM EXIT
        for n in $(nodes); do
            docker logs -f --tail "${TAIL:-20}" "node$n" 2>&1 | sed -u "s/^/node$n | /" &
        done
        wait
    else
        for n in $(nodes); do
            echo "===== node$n"
            docker logs --tail "${TAIL:-100}" "node$n" 2>&1 || true
        done
    fi
}

status() {
    docker ps -a --filter "label=$LABEL" --format 'table {{.Names}}\t{{.Status}}\t{{.Ports}}\t{{.Image}}'
    local n
    for n in $(nodes); do
        printf 'node%s /v1/status: ' "$n"
        curl -fsS "${AUTH[@]}" --max-time 2 "http://$BIND:$((PORT_BASE + n))/v1/status" 2>/dev/null || printf '(no answer)'
        echo
    done
}

leader_port() {
    local n
    for n in $(nodes); do
        if curl -fsS "${AUTH[@]}" --max-time 2 "http://$BIND:$((PORT_BASE + n))/v1/status" 2>/dev/null | grep -q '"role":"leader"'; then
            echo $((PORT_BASE + n)); return 0
        fi
    done
    return 1
}

add_node() {
    local n=${1:?usage: add-node N} port
    [[ $n =~ ^[0-9]+$ && $n -gt $NODES ]] || { log "N must be a number above $NODES"; exit 2; }
    docker container inspect "node$n" >/dev/null 2>&1 && { log "node$n exists already"; exit 1; }
    port=$(leader_port) || { log "no leader: cannot add node$n"; exit 1; }
    docker volume create --label "$LABEL" "raftkv-node$n" >/dev/null
    docker run -d --name "node$n" --hostname "node$n" --label "$LABEL" --label "io.raftkv.node=$n" \
        --network "$NETWORK" --network-alias "node$n" -p "$BIND:$((PORT_BASE + n)):8080" -v "raftkv-node$n:/data" \
        -e "RAFTKV_NODE_ID=node$n" -e "RAFTKV_ADVERTISE_URL=http://node$n:8080" -e "RAFTKV_PEERS=$(peers "$n")" \
        $(tls_args "$n") -e RAFTKV_INITIAL_CLUSTER_STATE=existing "$IMAGE" >/dev/null
    local deadline=$((SECONDS + WAIT))
    until curl -fsS -o /dev/null --max-time 2 "http://$BIND:$((PORT_BASE + n))/q/health/live" 2>/dev/null; do
        [ $SECONDS -lt $deadline ] || { log "node$n not live after ${WAIT}s"; exit 1; }
        sleep 0.5
    done
    curl -fsS "${AUTH[@]}" -X POST "http://$BIND:$port/v1/members" -H 'Content-Type: application/json' \
        -d "{\"id\":\"node$n\",\"url\":\"http://node$n:8080\"}" >/dev/null
    until curl -fsS "${AUTH[@]}" "http://$BIND:$port/v1/members" 2>/dev/null | grep -q "\"id\":\"node$n\",[^}]*\"role\":\"voter\""; do
        [ $SECONDS -lt $deadline ] || { log "node$n added but not promoted after ${WAIT}s (GET /v1/members)"; exit 1; }
        sleep 0.5
    done
    log "node$n is a voter -> http://$BIND:$((PORT_BASE + n))"
}

remove_member() {
    local n=${1:?usage: remove-node N} port
    port=$(leader_port) || { log "no leader: cannot remove node$n"; exit 1; }
    curl -fsS "${AUTH[@]}" -X DELETE "http://$BIND:$port/v1/members/node$n" >/dev/null
    remove_node "node$n"
    docker volume rm -f "raftkv-node$n" >/dev/null 2>&1 || true
    log "node$n removed from the configuration; its container and volume are gone"
}

case "${1:-}" in
    up) up ;;
    add-node) add_node "${2:-}" ;;
    remove-node) remove_member "${2:-}" ;;
    down) down ;;
    logs) logs ;;
    status) status ;;
    *) echo "usage: $0 up|down|logs|status|add-node N|remove-node N" >&2; exit 2 ;;
esac
