-- wrk script for bench/run.sh: one key-value workload against raftkv's REST API or etcd's JSON gateway.
-- Settings come from the environment:
--   BENCH_SYSTEM       raftkv | etcd
--   BENCH_OP           write | read | stale | mix | fill
--                      fill  = writes of every key in turn (thread t of BENCH_THREADS writes keys F+t, F+t+T, ..., wrapping
--                              around; F = BENCH_FILL_FROM, default 0)
--                      read  = linearizable (raftkv: GET /v1/kv/k; etcd: POST /v3/kv/range)
--                      stale = raftkv ?consistency=stale, etcd "serializable": true
--                      mix   = BENCH_READ_PCT % linearizable reads, the rest writes
--   BENCH_KEYS         number of keys, k00000 .. (default 10000); each request picks one at random
--   BENCH_VALUE_BYTES  value size (default 256)
--   BENCH_READ_PCT     reads in the mix, percent (default 90)
--   RAFTKV_TOKEN       bearer token for raftkv with client authentication on (optional)
-- done() prints one line for run.sh to parse (latencies in microseconds; rps counts 2xx responses only):
--   RESULT ok=<2xx> rps=<2xx per s> p50_us=<n> p99_us=<n> non2xx=<n> sockerr=<n> requests=<n> secs=<s>

local system = os.getenv("BENCH_SYSTEM") or "raftkv"
local op = os.getenv("BENCH_OP") or "write"
local nkeys = tonumber(os.getenv("BENCH_KEYS") or "10000")
local value_bytes = tonumber(os.getenv("BENCH_VALUE_BYTES") or "256")
local read_pct = tonumber(os.getenv("BENCH_READ_PCT") or "90")

local b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

local function base64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local function digit(shift) local d = math.floor(n / shift) % 64; return b64chars:sub(d + 1, d + 1) end
    out[#out + 1] = digit(262144) .. digit(4096) .. (b and digit(64) or "=") .. (c and digit(1) or "=")
  end
  return table.concat(out)
end

-- The main Lua state keeps the thread handles, to add up their counters in done().
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

-- Per-thread state (each wrk thread runs its own copy of this script).
local keys = {}            -- index -> key as it goes on the wire (raftkv: path segment; etcd: base64)
local value, value64
ok, non2xx = 0, 0          -- globals, so that done() can read them with thread:get()

function init(args)
  -- The same printable value for every write; bench/fill.py writes the same one.
  local chars = {}
  for i = 1, value_bytes do chars[i] = string.char(97 + (i * 7) % 26) end
  value = table.concat(chars)
  value64 = base64(value)
  for i = 0, nkeys - 1 do
    local k = string.format("k%05d", i)
    keys[i] = system == "etcd" and base64(k) or k
  end
  math.randomseed(os.time() + 7919 * (tid or 0))
end

local json = { ["Content-Type"] = "application/json" }
local octets = { ["Content-Type"] = "application/octet-stream" }
-- RAFTKV_TOKEN (raftkv with client authentication on): sent as a bearer token with every raftkv request.
local token = os.getenv("RAFTKV_TOKEN")
local plain = nil
if system ~= "etcd" and token and token ~= "" then
  octets["Authorization"] = "Bearer " .. token
  plain = { ["Authorization"] = "Bearer " .. token }
end

local function write_req(i)
  if system == "etcd" then
    return wrk.format("POST", "/v3/kv/put", json, '{"key":"' .. keys[i] .. '","value":"' .. value64 .. '"}')
  end
  return wrk.format("PUT", "/v1/kv/" .. keys[i], octets, value)
end

local function read_req(i, stale)
  if system == "etcd" then
    return wrk.format("POST", "/v3/kv/range", json,
        '{"key":"' .. keys[i] .. '"' .. (stale and ',"serializable":true}' or '}'))
  end
  return wrk.format("GET", "/v1/kv/" .. keys[i] .. (stale and "?consistency=stale" or ""), plain)
end

local fill_next = nil
local fill_step = tonumber(os.getenv("BENCH_THREADS") or "1")

function request()
  if op == "fill" then
    fill_next = fill_next or (tonumber(os.getenv("BENCH_FILL_FROM") or "0") + (tid or 0))
    local i = fill_next % nkeys
    fill_next = fill_next + fill_step
    return write_req(i)
  end
  local i = math.random(0, nkeys - 1)
  if op == "write" then return write_req(i) end
  if op == "read" then return read_req(i, false) end
  if op == "stale" then return read_req(i, true) end
  if op == "mix" then
    if math.random(1, 100) <= read_pct then return read_req(i, false) end
    return write_req(i)
  end
  error("unknown BENCH_OP " .. op)
end

function response(status, headers, body)
  if status >= 200 and status < 300 then
    ok = ok + 1
  else
    -- wrk itself counts only >= 400; a 307 (not the leader) or 503 (no leader) is an error here too.
    non2xx = non2xx + 1
    if non2xx <= 3 then io.stderr:write("non-2xx response: " .. status .. " " .. tostring(body):sub(1, 200) .. "\n") end
  end
end

function done(summary, latency, requests)
  local total_ok, total_non2xx = 0, 0
  for _, t in ipairs(threads) do
    total_ok = total_ok + (t:get("ok") or 0)
    total_non2xx = total_non2xx + (t:get("non2xx") or 0)
  end
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format("RESULT ok=%d rps=%.1f p50_us=%d p99_us=%d non2xx=%d sockerr=%d requests=%d secs=%.2f\n",
      total_ok, total_ok / secs, latency:percentile(50), latency:percentile(99), total_non2xx,
      e.connect + e.read + e.write + e.timeout, summary.requests, secs))
end
