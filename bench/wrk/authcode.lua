-- The authorization-code flow with a live session, for bench/token: each flow is
--   GET /oauth/authorize?… (session cookie, consent already given) → 302 to the client with a code
--   POST /oauth/token grant_type=authorization_code&code=…&code_verifier=… (client_secret_basic) → 200
-- Codes are handed from the authorize responses to the next token request of the same wrk thread.
-- Environment: AUTHZ_PATH (path and query of the authorization request), AUTHZ_COOKIE,
--   TOKEN_BODY (the token request's form without the code, ending in "&code="), TOKEN_AUTHORIZATION.
-- Prints one line: RESULT flows=<n> seconds=<s> flows_per_s=<r> requests=<n> p99_ms=<ms> errors=<n> bad=<n>
-- ("bad": an authorize without a code, or a token request that was not 200).

local authz_path = os.getenv("AUTHZ_PATH")
local cookie = os.getenv("AUTHZ_COOKIE")
local token_body = os.getenv("TOKEN_BODY")
local token_auth = os.getenv("TOKEN_AUTHORIZATION")

local threads = {}
setup = function(thread)
  table.insert(threads, thread)
end

local codes = {}
flows = 0
bad = 0

request = function()
  local code = table.remove(codes)
  if code then
    return wrk.format("POST", "/oauth/token", {
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["Authorization"] = token_auth,
    }, token_body .. code)
  end
  return wrk.format("GET", authz_path, { ["Cookie"] = cookie })
end

response = function(status, headers, body)
  if status == 302 then
    local location = headers["location"] or headers["Location"] or ""
    local code = location:match("[?&]code=([^&]+)")
    if code then
      table.insert(codes, code)
    else
      bad = bad + 1
    end
  elseif status == 200 then
    flows = flows + 1
  else
    bad = bad + 1
  end
end

done = function(summary, latency, requests)
  local total_flows, total_bad = 0, 0
  for _, t in ipairs(threads) do
    total_flows = total_flows + (t:get("flows") or 0)
    total_bad = total_bad + (t:get("bad") or 0)
  end
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "RESULT flows=%d seconds=%.3f flows_per_s=%.1f requests=%d p99_ms=%.3f errors=%d bad=%d\n",
    total_flows, seconds, total_flows / seconds, summary.requests, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout, total_bad))
end
