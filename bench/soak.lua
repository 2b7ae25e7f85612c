-- wrk script for the soak: POST /oauth2/token with pre-signed single-use bodies, paced
-- to a fixed schedule (wrk has no -R; its delay() hook and a sleep between an answer and
-- the next connection give an open-loop rate).
--
-- Usage: wrk -tN -cN -s soak.lua URL -- BODIES_PREFIX N START_MS RATE PROGRESS_PREFIX
--   BODIES_PREFIX   thread k reads BODIES_PREFIX.<k>, one urlencoded form body per
--                   line: body i of the run (from 0) is line i // N of file i % N, due
--                   at START_MS + i * 1000 / RATE (its assertion's iat and exp follow it)
--   N               wrk's -t and -c: one connection per thread
--   START_MS        the schedule's origin, Unix time in milliseconds
--   RATE            requests per second over all threads
--   PROGRESS_PREFIX each thread rewrites PROGRESS_PREFIX.<k> about once a second with
--                   "sent ok other late_max_ms late_over_1s bodies", because wrk only
--                   summarises at its end; once PROGRESS_PREFIX.stop exists, threads
--                   that have sent all their bodies stop (the caller creates it when
--                   every body has its answer, then ends wrk with SIGINT)
--
-- Pacing: wrk asks delay() how long to wait before each request on a connection;
-- delay() waits until the thread's next body is due (no wait when it is overdue, so a
-- slow answer makes the schedule late, never skipped). Gunicorn's sync workers close
-- the connection after every answer and wrk reconnects at once, before delay(), so a
-- waiting connection may already sit with a worker; with one connection per thread,
-- connections are accepted in about the order their bodies fall due, and a worker
-- only waits for the next body due. A thread must not wait with its connection open
-- once its bodies are used up (an idle connection would hold a worker while other
-- threads' last bodies queue): it sends GET /.well-known/openid-configuration, which
-- is cheap and not counted, until PROGRESS_PREFIX.stop exists. Every body is sent once.
--
-- done() prints one line "SOAK_JSON {...}": counts per status, socket errors, latency
-- percentiles in microseconds (send to answer, the final GETs included; the pacing
-- wait is not in them), the bodies sent and how late they went out.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } soak_timespec;
  int clock_gettime(int clk_id, soak_timespec *tp);
]]
local ts = ffi.new("soak_timespec")
local function now_ms()
  ffi.C.clock_gettime(0, ts) -- CLOCK_REALTIME: the schedule is in Unix time
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1000000
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
local nthreads, start_ms, rate = 1, 0, 1
local progress_path, stop_path = nil, nil
local last_progress = 0
local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }

ok = 0
other = 0
statuses = {}
sent = 0
late_max_ms = 0
late_sum_ms = 0
late_over_1s = 0
sent_at = 0
slow_over_1s = 0
tail_gets = 0
posting = false
paced = false

local function due_ms(n)
  return start_ms + (id + (n - 1) * nthreads) * 1000 / rate
end

function init(args)
  nthreads, start_ms, rate = tonumber(args[2]), tonumber(args[3]), tonumber(args[4])
  progress_path = args[5] .. "." .. id
  stop_path = args[5] .. ".stop"
  local path = args[1] .. "." .. id
  for line in io.lines(path) do
    table.insert(bodies, line)
  end
  if #bodies == 0 then
    error("no bodies for thread " .. id .. " in " .. path)
  end
end

local function finished()
  local f = io.open(stop_path, "r")
  if f then
    f:close()
    return true
  end
  return false
end

function delay()
  paced = true
  if index >= #bodies then
    return 0
  end
  local wait = due_ms(index + 1) - now_ms()
  if wait <= 0 then
    return 0
  end
  return math.floor(wait)
end

function request()
  if not paced then
    -- wrk calls request() once in thread 0 before the run to check the script's
    -- requests; that call sends nothing, so it must not use up a body.
    return wrk.format("POST", nil, headers, bodies[1])
  end
  if index >= #bodies then
    posting = false
    tail_gets = tail_gets + 1
    if finished() then
      wrk.thread:stop()
    end
    return wrk.format("GET", "/.well-known/openid-configuration")
  end
  index = index + 1
  posting = true
  local now = now_ms()
  local late = now - due_ms(index)
  if late > late_max_ms then
    late_max_ms = late
  end
  if late > 0 then
    late_sum_ms = late_sum_ms + late
  end
  if late > 1000 then
    late_over_1s = late_over_1s + 1
  end
  sent = sent + 1
  sent_at = now
  return wrk.format("POST", nil, headers, bodies[index])
end

local function write_progress(now)
  last_progress = now
  local f = io.open(progress_path, "w")
  if f then
    f:write(string.format(
      "%d %d %d %.0f %d %d\n", sent, ok, other, late_max_ms, late_over_1s, #bodies))
    f:close()
  end
end

function response(status, resp_headers, body)
  if not posting then
    return
  end
  posting = false
  if status == 200 then
    ok = ok + 1
  else
    other = other + 1
    local key = tostring(status)
    statuses[key] = (statuses[key] or 0) + 1
    if not sample_error then
      sample_error = key .. " " .. string.sub(body or "", 1, 300)
    end
  end
  local now = now_ms()
  if now - sent_at > 1000 then
    slow_over_1s = slow_over_1s + 1
  end
  if now - last_progress >= 1000 or index == #bodies then
    write_progress(now)
  end
end

local function json_string(s)
  return '"' .. string.gsub(s, '[%c"\\]', function(c)
    return string.format("\\u%04x", string.byte(c))
  end) .. '"'
end

function done(summary, latency, requests)
  local total = { ok = 0, sent = 0, late_sum = 0, late_over = 0, late_max = 0, bodies = 0 }
  local other_by_status = {}
  local sample = nil
  for _, t in ipairs(threads) do
    total.ok = total.ok + (t:get("ok") or 0)
    total.sent = total.sent + (t:get("sent") or 0)
    total.late_sum = total.late_sum + (t:get("late_sum_ms") or 0)
    total.late_over = total.late_over + (t:get("late_over_1s") or 0)
    total.late_max = math.max(total.late_max, t:get("late_max_ms") or 0)
    for k, v in pairs(t:get("statuses") or {}) do
      other_by_status[k] = (other_by_status[k] or 0) + v
    end
    sample = sample or t:get("sample_error")
    total.slow = (total.slow or 0) + (t:get("slow_over_1s") or 0)
    total.tail = (total.tail or 0) + (t:get("tail_gets") or 0)
  end
  local parts = {}
  for k, v in pairs(other_by_status) do
    table.insert(parts, string.format('"%s": %d', k, v))
  end
  local e = summary.errors
  io.write(string.format(
    'SOAK_JSON {"ok": %d, "other": {%s}, "sent": %d, "socket_errors": {"connect": %d, '
      .. '"read": %d, "write": %d, "timeout": %d}, "wrk_duration_us": %d, '
      .. '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "late_max_ms": %.1f, '
      .. '"late_mean_ms": %.2f, "late_over_1s": %d, "answers_over_1s": %d, "tail_gets": %d, '
      .. '"sample_error": %s}\n',
    total.ok, table.concat(parts, ", "), total.sent, e.connect, e.read, e.write, e.timeout,
    summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, total.late_max,
    total.sent > 0 and total.late_sum / total.sent or 0, total.late_over,
    total.slow or 0, total.tail or 0, sample and json_string(sample) or "null"))
end
