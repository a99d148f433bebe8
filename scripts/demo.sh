#!/usr/bin/env bash
# `make demo`: the lab scenario against the local cluster (starting it first if it is not running), narrated by
# scripts/LabDemo.java (JDK only: java runs the single source file). Exit status 0 when every check passed.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! java scripts/HttpGet.java http://127.0.0.1:8001/q/health/live >/dev/null 2>&1 \
   && ! java scripts/HttpGet.java http://127.0.0.1:8002/q/health/live >/dev/null 2>&1 \
   && ! java scripts/HttpGet.java http://127.0.0.1:8003/q/health/live >/dev/null 2>&1; then
  echo "the local cluster is not running: starting it (make run)"
  scripts/cluster-local.sh start
fi
exec java scripts/LabDemo.java
