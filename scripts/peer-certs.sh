#!/usr/bin/env bash
# The cluster's peer TLS files: a CA and one key + certificate per node, created on first use (existing files are kept).
#   scripts/peer-certs.sh DIR NODE_ID...      e.g. scripts/peer-certs.sh data/tls node1 node2 node3
# Writes DIR/ca.crt, DIR/ca.key and, per node, DIR/<id>.crt and DIR/<id>.key (EC P-256, PKCS#8 PEM). Each node
# certificate carries the URI SAN urn:raftkv:node:<id>, which is how peers recognise the node. Keep ca.key away from
# the nodes in real deployments: only ca.crt, <id>.crt and <id>.key go to node <id>.
# PEER_CERT_DAYS (default 825) sets the validity. Needs openssl.
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 DIR NODE_ID..." >&2
  exit 2
fi
dir=$1
shift
command -v openssl >/dev/null || { echo "peer-certs: openssl is needed (apt-get install openssl)" >&2; exit 1; }
days=${PEER_CERT_DAYS:-825}
mkdir -p "$dir"
umask 077
# One run at a time per directory (nodes and tests start in parallel), and every file written aside and moved into
# place, so an interrupted run leaves no half-written file behind to be taken for a good one.
exec 9>"$dir/.lock"
flock 9
tmp=$(mktemp -d "$dir/.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

if [ ! -s "$dir/ca.crt" ] || [ ! -s "$dir/ca.key" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days "$days" \
    -subj "/CN=raftkv peer CA $(date -u +%Y%m%d%H%M%S)" -keyout "$tmp/ca.key" -out "$tmp/ca.crt" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  mv "$tmp/ca.key" "$dir/ca.key"
  mv "$tmp/ca.crt" "$dir/ca.crt"
  echo "peer-certs: new CA in $dir/ca.crt"
fi

for id in "$@"; do
  if ! [[ $id =~ ^[A-Za-z0-9._-]{1,64}$ ]]; then
    echo "peer-certs: bad node id '$id'" >&2
    exit 2
  fi
  if [ -s "$dir/$id.crt" ] && [ -s "$dir/$id.key" ]; then
    continue
  fi
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=URI:urn:raftkv:node:%s,DNS:%s\n' "$id" "$id" >"$tmp/ext"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$id" \
    -keyout "$tmp/$id.key" -out "$tmp/$id.csr" 2>/dev/null
  openssl x509 -req -in "$tmp/$id.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial -CAserial "$tmp/ca.srl" \
    -days "$days" -extfile "$tmp/ext" -out "$tmp/$id.crt" 2>/dev/null
  chmod 644 "$tmp/$id.crt" "$tmp/$id.key"
  mv "$tmp/$id.key" "$dir/$id.key"
  mv "$tmp/$id.crt" "$dir/$id.crt"
  echo "peer-certs: $dir/$id.crt for node $id"
done
# Node files are readable by the nodes' user (containers run as another uid); the CA key stays private.
chmod 644 "$dir/ca.crt"
