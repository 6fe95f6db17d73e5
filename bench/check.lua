-- wrk script: POST /api/v1/check with an API key, keep-alive.
-- GARDIEN_KEY, GARDIEN_ACCOUNT and GARDIEN_ORG come from the environment
-- (bench/setup.sh prints them). See bench/README.md.
local key = os.getenv("GARDIEN_KEY")
local account = os.getenv("GARDIEN_ACCOUNT")
local org = os.getenv("GARDIEN_ORG")
local permission = os.getenv("GARDIEN_PERMISSION") or "team.read"

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. key
wrk.body = string.format(
  '{"account_id":"%s","organization_id":"%s","permission":"%s"}',
  account, org, permission)

local failures = 0
function response(status, headers, body)
  if status ~= 200 then
    failures = failures + 1
  end
end

function done(summary, latency, requests)
  io.write(string.format("non-200 answers: %d\n", failures))
  for _, p in pairs({ 50, 90, 99, 99.9 }) do
    io.write(string.format("p%g: %.3f ms\n", p, latency:percentile(p) / 1000))
  end
end
