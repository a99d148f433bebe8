#!/usr/bin/env bash
# `make lab-files`: every local node's files in a form a person can read, as the lab asks for them, written to
# data/lab-files/ by the offline dump of the built artifact (`raftkv dump`, read-only: the nodes' files are not
# changed, and the nodes may keep running):
#   nodeN.log.txt            the command log: index, term and decoded command of every entry (dump --only log)
#   nodeN.storage.txt        the persistent state: term, vote, commit, log bounds and files, snapshots
#   nodeN.state_machine.txt  the state machine: every key with its version and value
#   nodeN.events.log         the node's event log (elections, votes, leaders), as it is
# Uses the native executable when the nodes run it (NATIVE=1 or data/nodeN.kind), else the JVM jar (built if missing).
# Exit status 0 when every file was read completely; 1 when a dump found a torn or damaged file (it says which).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DATA=${RAFTKV_LOCAL_DATA:-$ROOT/data}
OUT=$DATA/lab-files
JAR=$ROOT/target/quarkus-app/quarkus-run.jar
RUNNER=$(ls -t "$ROOT"/target/*-runner 2>/dev/null | head -1 || true)

native=${NATIVE:-}
if [[ -z $native && -f $DATA/node1.kind && $(cat "$DATA/node1.kind") == native && -n $RUNNER ]]; then native=1; fi
if [[ $native == 1 ]]; then
  [[ -n $RUNNER && -x $RUNNER ]] || { echo "NATIVE=1 but no native executable in target/: run 'make native' first" >&2; exit 1; }
  DUMP=("$RUNNER" dump)
else
  if [[ ! -f $JAR ]]; then echo "building raftkv (./mvnw package -DskipTests) ..."; ./mvnw -B -q package -DskipTests; fi
  DUMP=(java -XX:TieredStopAtLevel=1 -jar "$JAR" dump)
fi

mkdir -p "$OUT"
status=0 found=0
for dir in "$DATA"/node*/; do
  dir=${dir%/}; n=$(basename "$dir")
  [[ $n =~ ^node[0-9]+$ ]] || continue
  found=1
  for part in "log:log" "storage:storage,snapshots" "state_machine:state-machine"; do
    name=${part%%:*} sections=${part#*:}
    rc=0; "${DUMP[@]}" --only "$sections" "$dir" >"$OUT/$n.$name.txt" || rc=$?
    if ((rc != 0)); then
      echo "$n.$name.txt: the dump exited with status $rc (see the lines starting with !! in it)" >&2
      status=1
    fi
  done
  if [[ -f $dir/events.log ]]; then cp "$dir/events.log" "$OUT/$n.events.log"; else : >"$OUT/$n.events.log"; fi
  echo "$OUT/$n.{log.txt,storage.txt,state_machine.txt,events.log}"
done
((found)) || { echo "no node data directories in $DATA (start the cluster with make run first)" >&2; exit 1; }
exit $status
