-- bench/soak's mixed load: every wrk thread has ONE connection (run wrk with -t N -c N), so each
-- thread knows which request is in flight and counts answers and failures by kind. Each thread goes
-- round the same 11-request cycle:
--   cc, introspect, cc, introspect, authorize, token (code), cc, introspect, cc, introspect, publish
-- i.e. per 10 operations: 4 token issuances (client_credentials), 4 introspections (of the token the
-- thread was just issued), 1 authorization-code flow (GET /oauth/authorize with a live session → 302
-- with a code → POST /oauth/token), 1 event published (the bearer token the thread was last issued).
-- In requests: 4/11 cc, 4/11 introspect, 2/11 authcode, 1/11 publish.
--
-- Without WRK_SOAK_RATE: a closed loop (each connection sends its next request on the answer).
-- With WRK_SOAK_RATE (requests/s, all threads together): each thread sends on a fixed schedule,
-- WRK_SOAK_RATE / threads requests/s, whatever the answers' latency (a late request is sent at once and
-- the schedule is kept: the rate stays steady, the load does not back off when the server slows).
--
-- Pass the thread count as the script's argument: wrk … -s soak.lua URL -- N.
-- Environment: WRK_SOAK_RATE, WRK_SOAK_STATS (a file prefix: each thread rewrites <prefix>-<n> with its
-- cumulative counts about once a second), WRK_SOAK_RUN (a run ID for event IDs), AUTHZ_PATH, AUTHZ_COOKIE,
-- TOKEN_BODY (the code exchange's form ending in "&code="), CLIENT_AUTHORIZATION (client_secret_basic
-- of the confidential OAuth client, for the code exchange), CC_AUTHORIZATION (client_secret_basic of
-- the OAuth Server-to-Server backend, for client credentials and introspection), CC_BODY, CLIENT_ID
-- (the backend's, the API key of its publications), EVENT_TYPE, EVENT_SOURCE.
-- Counts per kind: <kind>_ok, <kind>_err (an unexpected status or body, or no answer: a socket error
-- or timeout shows as the next request being asked for while one is still in flight).
-- done() prints: RESULT requests=… seconds=… rps=… cc_ok=… cc_err=… … socket_errors=…

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } soak_timespec;
  int clock_gettime(int clk_id, soak_timespec *tp);
]]
local ts = ffi.new("soak_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local kinds = { "cc", "introspect", "authcode", "publish" }
local cycle = { "cc", "introspect", "cc", "introspect", "authorize", "code", "cc", "introspect", "cc",
  "introspect", "publish" }

local threads = {}
local thread_count = 0
setup = function(thread)
  thread_count = thread_count + 1
  thread:set("tid", thread_count)
  table.insert(threads, thread)
end

local rate = tonumber(os.getenv("WRK_SOAK_RATE") or "")
local stats_prefix = os.getenv("WRK_SOAK_STATS")
local run_id = os.getenv("WRK_SOAK_RUN") or "run"
local authz_path = os.getenv("AUTHZ_PATH")
local cookie = os.getenv("AUTHZ_COOKIE")
local token_body = os.getenv("TOKEN_BODY")
local client_auth = os.getenv("CLIENT_AUTHORIZATION")
local cc_auth = os.getenv("CC_AUTHORIZATION")
local cc_body = os.getenv("CC_BODY")
local client_id = os.getenv("CLIENT_ID")
local event_type = os.getenv("EVENT_TYPE")
local event_source = os.getenv("EVENT_SOURCE")
local form = "application/x-www-form-urlencoded"

-- Per-thread state (each thread runs its own copy of this script).
cc_ok, cc_err, introspect_ok, introspect_err, authcode_ok, authcode_err, publish_ok, publish_err = 0, 0, 0, 0, 0, 0, 0, 0
local counts = {}
local slot = 0
local inflight = nil -- the step whose answer is awaited
local access_token = nil
local code = nil
local published = 0
local next_flush = 0
local next_due = nil
local interval = nil

local function count(kind, ok)
  local name = kind .. (ok and "_ok" or "_err")
  _G[name] = _G[name] + 1
end

local function kind_of(step)
  if step == "authorize" or step == "code" then return "authcode" end
  return step
end

local function flush(force)
  if not stats_prefix then return end
  local t = now_ms()
  if not force and t < next_flush then return end
  next_flush = t + 1000
  local f = io.open(stats_prefix .. "-" .. tostring(tid), "w")
  if f then
    f:write(string.format("cc_ok=%d cc_err=%d introspect_ok=%d introspect_err=%d authcode_ok=%d authcode_err=%d publish_ok=%d publish_err=%d\n",
      cc_ok, cc_err, introspect_ok, introspect_err, authcode_ok, authcode_err, publish_ok, publish_err))
    f:close()
  end
end

if rate and rate > 0 then
  delay = function()
    local t = now_ms()
    if not next_due then
      interval = 1000 * thread_count_total / rate
      -- Spread the threads' schedules over one interval.
      next_due = t + interval * (tid - 1) / thread_count_total
    end
    local wait = next_due - t
    next_due = next_due + interval
    if wait < 0 then return 0 end
    return math.floor(wait)
  end
end

init = function(args)
  thread_count_total = tonumber(args[1]) or 1
end

local answered = false
request = function()
  if inflight and not answered then
    -- wrk 4 asks the first thread for one request before the run, to check the script: start over.
    inflight, slot = nil, 0
  elseif inflight then
    -- Asked for a new request while one is in flight: the previous one got no answer (wrk
    -- reconnected after a socket error; wrk's own count of socket errors has it too).
    count(kind_of(inflight), false)
    inflight = nil
  end
  local step
  repeat
    slot = slot % #cycle + 1
    step = cycle[slot]
  until step ~= "code" or code ~= nil
  inflight = step
  if step == "cc" then
    return wrk.format("POST", "/oauth/token", { ["Content-Type"] = form, ["Authorization"] = cc_auth }, cc_body)
  elseif step == "introspect" then
    return wrk.format("POST", "/oauth/introspect", { ["Content-Type"] = form, ["Authorization"] = cc_auth },
      "token=" .. (access_token or "none"))
  elseif step == "authorize" then
    return wrk.format("GET", authz_path, { ["Cookie"] = cookie })
  elseif step == "code" then
    local c = code
    code = nil
    return wrk.format("POST", "/oauth/token", { ["Content-Type"] = form, ["Authorization"] = client_auth }, token_body .. c)
  else
    published = published + 1
    local id = string.format("soak-%s-%d-%d", run_id, tid, published)
    local body = string.format(
      '{"specversion":"1.0","type":"%s","source":"%s","id":"%s","datacontenttype":"application/json","data":{"n":%d,"note":"soak payload of a typical size: a few fields and a short string"}}',
      event_type, event_source, id, published)
    return wrk.format("POST", "/api/v1/events/publish",
      { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. (access_token or "none"), ["x-api-key"] = client_id },
      body)
  end
end

response = function(status, headers, body)
  answered = true
  local step = inflight
  inflight = nil
  if step == "cc" then
    local tok = status == 200 and body:match('"access_token"%s*:%s*"([^"]+)"')
    if tok then access_token = tok end
    count("cc", tok ~= nil)
  elseif step == "introspect" then
    count("introspect", status == 200 and body:find('"active"%s*:%s*true') ~= nil)
  elseif step == "authorize" then
    local location = headers["location"] or headers["Location"] or ""
    local c = status == 302 and location:match("[?&]code=([^&]+)")
    if c then
      code = c
    else
      count("authcode", false)
    end
  elseif step == "code" then
    count("authcode", status == 200 and body:find('"access_token"') ~= nil)
  elseif step == "publish" then
    count("publish", status == 202)
  end
  flush(false)
end

done = function(summary, latency, requests)
  local totals = {}
  for _, k in ipairs(kinds) do
    totals[k .. "_ok"], totals[k .. "_err"] = 0, 0
  end
  for _, t in ipairs(threads) do
    for _, k in ipairs(kinds) do
      totals[k .. "_ok"] = totals[k .. "_ok"] + (t:get(k .. "_ok") or 0)
      totals[k .. "_err"] = totals[k .. "_err"] + (t:get(k .. "_err") or 0)
    end
  end
  local seconds = summary.duration / 1e6
  local e = summary.errors
  local line = string.format("RESULT requests=%d seconds=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f socket_errors=%d",
    summary.requests, seconds, summary.requests / seconds, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, e.connect + e.read + e.write + e.timeout)
  for _, k in ipairs(kinds) do
    line = line .. string.format(" %s_ok=%d %s_err=%d", k, totals[k .. "_ok"], k, totals[k .. "_err"])
  end
  io.write(line .. "\n")
end
