-- The full hosted sign-in as a browser does it, repeated: POST /signin with email and password
-- and the CSRF double-submit pair (the cookie and the form field carry the same value). Each
-- request verifies the password (argon2id), creates a session and writes the audit entry;
-- Gatehouse answers 303 to the console. From the environment: SIGNIN_EMAIL, SIGNIN_PASSWORD.
-- Prints the same RESULT line as request.lua.
local csrf = string.rep("ab", 32)
local function enc(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = "gatehouse_csrf=" .. csrf
wrk.body = "email=" .. enc(os.getenv("SIGNIN_EMAIL")) .. "&password=" .. enc(os.getenv("SIGNIN_PASSWORD"))
  .. "&csrf_token=" .. csrf

local bad = 0
response = function(status, headers, body)
  if status ~= 303 then bad = bad + 1 end
end

done = function(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d seconds=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f errors=%d non2xx=%d\n",
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout, e.status))
end
