-- wrk script: POST /oauth2/token with pre-built form bodies, each used at most once.
--
-- Usage: wrk -s token.lua URL -- BODIES_FILE THREADS REUSE [AUTHORIZATION]
--   BODIES_FILE  one urlencoded form body per line
--   THREADS      the -t given to wrk (thread i takes lines i, i+THREADS, ...)
--   REUSE        "1": cycle the lines forever (secret scenarios, no jti);
--                "0": each line once, then the thread stops (assertions are single-use,
--                a replay would be refused)
--   AUTHORIZATION optional Authorization header value (client_secret_basic)
--
-- done() prints one line "BENCH_JSON {...}" with counts per status, wrk's socket
-- errors, latency percentiles in microseconds, and the wall-clock span from the first
-- request sent to the last response read (so a thread that ran out of bodies does not
-- stretch the rate over wrk's whole -d).

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clk_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")
local function now_us()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000000 + math.floor(tonumber(ts.tv_nsec) / 1000)
end

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local bodies = {}
local index = 0
local reuse = false
local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }

ok = 0
statuses = {}
first_us = 0
last_us = 0
sent = 0

function init(args)
  local path, nthreads = args[1], tonumber(args[2])
  reuse = args[3] == "1"
  if args[4] and args[4] ~= "" then
    headers["Authorization"] = args[4]
  end
  local n = 0
  for line in io.lines(path) do
    if reuse or n % nthreads == id then
      table.insert(bodies, line)
    end
    n = n + 1
  end
  if #bodies == 0 then
    error("no bodies for thread " .. id .. " in " .. path)
  end
end

function request()
  index = index + 1
  if index > #bodies then
    if reuse then
      index = 1
    else
      -- Out of single-use bodies: stop this thread. wrk still wants a request for the
      -- write in progress, so it gets the last body again, which the thread never
      -- sends once its loop has stopped.
      wrk.thread:stop()
      index = #bodies
    end
  end
  if first_us == 0 then
    first_us = now_us()
  end
  sent = sent + 1
  return wrk.format("POST", nil, headers, bodies[index])
end

function response(status, resp_headers, body)
  last_us = now_us()
  if status == 200 then
    ok = ok + 1
  else
    local key = tostring(status)
    statuses[key] = (statuses[key] or 0) + 1
    if not sample_error then
      sample_error = key .. " " .. string.sub(body or "", 1, 300)
    end
  end
end

local function json_string(s)
  return '"' .. string.gsub(s, '[%c"\\]', function(c)
    return string.format("\\u%04x", string.byte(c))
  end) .. '"'
end

function done(summary, latency, requests)
  local total_ok, first, last = 0, nil, 0
  local other = {}
  local sample = nil
  for _, t in ipairs(threads) do
    total_ok = total_ok + (t:get("ok") or 0)
    local f, l = t:get("first_us") or 0, t:get("last_us") or 0
    if f > 0 and (first == nil or f < first) then first = f end
    if l > last then last = l end
    for k, v in pairs(t:get("statuses") or {}) do
      other[k] = (other[k] or 0) + v
    end
    sample = sample or t:get("sample_error")
  end
  local parts = {}
  for k, v in pairs(other) do
    table.insert(parts, string.format('"%s": %d', k, v))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"ok": %d, "other": {%s}, "socket_errors": {"connect": %d, "read": %d, '
      .. '"write": %d, "timeout": %d}, "span_us": %d, "wrk_duration_us": %d, '
      .. '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "sample_error": %s}\n',
    total_ok, table.concat(parts, ", "), e.connect, e.read, e.write, e.timeout,
    (first and last > first) and (last - first) or summary.duration, summary.duration,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    sample and json_string(sample) or "null"))
end
