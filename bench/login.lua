-- wrk script: a flood of logins (POST /api/v1/login) spread over the
-- accounts bench/login.sh created, each from its own client address (the
-- server trusts 127.0.0.1 as a proxy, so X-Forwarded-For names the client and
-- the per-address rate limits do not stop the flood). A login's cost is one
-- Argon2id verification: this measures the hashing pool, not the limits.
local accounts = tonumber(os.getenv("ACCOUNTS") or "200")
local cookie = os.getenv("CSRF_COOKIE")
local token = os.getenv("CSRF_TOKEN")
local password = "violet tractor under the rain"

local counter = 0
request = function()
  counter = counter + 1
  local i = math.random(0, accounts - 1)
  local ip = string.format("10.%d.%d.%d", math.random(0, 255), math.random(0, 255), math.random(1, 254))
  local body = string.format('{"email":"bench-login-%d@example.com","password":"%s"}', i, password)
  return wrk.format("POST", "/api/v1/login", {
    ["Content-Type"] = "application/json",
    ["Cookie"] = cookie,
    ["X-CSRF-Token"] = token,
    ["X-Forwarded-For"] = ip,
  }, body)
end

local failures = 0
function response(status, headers, body)
  if status ~= 200 then
    failures = failures + 1
  end
end

function done(summary, latency, requests)
  io.write(string.format("non-200 answers: %d\n", failures))
  for _, p in pairs({ 50, 90, 99 }) do
    io.write(string.format("p%g: %.3f ms\n", p, latency:percentile(p) / 1000))
  end
end
