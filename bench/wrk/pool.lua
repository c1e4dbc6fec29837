-- Token introspection over a pool of distinct tokens: each request introspects the next token of
-- WRK_POOL_FILE (one per line), round robin, so the verifier's cache sees as many tokens as a
-- resource server would. WRK_AUTHORIZATION authenticates the introspecting client.
-- Prints the same RESULT line as request.lua.

local tokens = {}
for line in io.lines(os.getenv("WRK_POOL_FILE")) do
  if line ~= "" then
    tokens[#tokens + 1] = line
  end
end
local next_token = 0

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = os.getenv("WRK_AUTHORIZATION")

request = function()
  next_token = next_token % #tokens + 1
  return wrk.format(nil, nil, nil, "token=" .. tokens[next_token])
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
