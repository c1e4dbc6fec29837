-- One request, repeated: wrk's script for every bench/run scenario. The request comes from the
-- environment so that Gatehouse and the peer get exactly the same one:
--   WRK_METHOD (default GET), WRK_BODY, WRK_CONTENT_TYPE, WRK_AUTHORIZATION, WRK_API_KEY.
-- At the end it prints one machine-readable line that bench/run parses:
--   RESULT requests=<n> seconds=<s> rps=<r> p50_ms=<ms> p99_ms=<ms> errors=<socket errors> non2xx=<n>

wrk.method = os.getenv("WRK_METHOD") or "GET"
local body = os.getenv("WRK_BODY")
if body and body ~= "" then
  wrk.body = body
end
local content_type = os.getenv("WRK_CONTENT_TYPE")
if content_type and content_type ~= "" then
  wrk.headers["Content-Type"] = content_type
end
local authorization = os.getenv("WRK_AUTHORIZATION")
if authorization and authorization ~= "" then
  wrk.headers["Authorization"] = authorization
end
local api_key = os.getenv("WRK_API_KEY")
if api_key and api_key ~= "" then
  wrk.headers["x-api-key"] = api_key
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
