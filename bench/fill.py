#!/usr/bin/env python3
"""Writes every benchmark key once (k00000 .. k09999, the same keys and value as bench/kv.lua), over a few
keep-alive connections, and prints one line: FILL ok=<n> errors=<n> secs=<s>. Exits 1 if any write failed.

usage: fill.py raftkv|etcd http://127.0.0.1:PORT [keys=10000] [value_bytes=256] [connections=16]
Standard library only: bash can't fill 10,000 keys quickly, and wrk can't stop after a fixed number of requests.
"""
import base64
import http.client
import os
import sys
import threading
import time
import urllib.parse


def main():
    system, url = sys.argv[1], urllib.parse.urlparse(sys.argv[2])
    nkeys = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
    value_bytes = int(sys.argv[4]) if len(sys.argv) > 4 else 256
    conns = int(sys.argv[5]) if len(sys.argv) > 5 else 16
    value = bytes(97 + (i * 7) % 26 for i in range(1, value_bytes + 1))  # as kv.lua's init()
    value64 = base64.b64encode(value).decode()

    headers = {"Content-Type": "application/octet-stream"}
    if os.environ.get("RAFTKV_TOKEN"):  # raftkv with client authentication on
        headers["Authorization"] = "Bearer " + os.environ["RAFTKV_TOKEN"]
    next_key, lock = [0], threading.Lock()
    counts = {"ok": 0, "errors": 0}
    first_errors = []

    def worker():
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        while True:
            with lock:
                i = next_key[0]
                next_key[0] += 1
            if i >= nkeys:
                break
            key = "k%05d" % i
            try:
                if system == "etcd":
                    body = '{"key":"%s","value":"%s"}' % (base64.b64encode(key.encode()).decode(), value64)
                    conn.request("POST", "/v3/kv/put", body, {"Content-Type": "application/json"})
                else:
                    conn.request("PUT", "/v1/kv/" + key, value, headers)
                resp = conn.getresponse()
                text = resp.read()
                good = 200 <= resp.status < 300
                detail = "%s %d %s" % (key, resp.status, text[:160])
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
                good, detail = False, "%s %r" % (key, e)
            with lock:
                counts["ok" if good else "errors"] += 1
                if not good and len(first_errors) < 3:
                    first_errors.append(detail)

    start = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for e in first_errors:
        print("fill error: " + e, file=sys.stderr)
    print("FILL ok=%d errors=%d secs=%.2f" % (counts["ok"], counts["errors"], time.monotonic() - start))
    sys.exit(1 if counts["errors"] else 0)


if __name__ == "__main__":
    main()
