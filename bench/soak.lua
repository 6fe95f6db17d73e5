-- wrk script for bench/soak.sh: one kind of request per wrk process, chosen
-- by SOAK_MODE, at the pace of SOAK_DELAY_MS between requests of a
-- connection (0: as fast as answered):
--   check   POST /api/v1/check with the API key
--   login   POST /api/v1/login of one of the soak accounts, each from its own
--           client address (the server trusts 127.0.0.1 as a proxy)
--   invite  POST an invitation of a new address (session and CSRF token)
--   team    GET the team page (session)
-- Every answer other than 2xx counts as an error; done() prints the count.
local mode = os.getenv("SOAK_MODE")
local delay_ms = tonumber(os.getenv("SOAK_DELAY_MS") or "0")
local key = os.getenv("GARDIEN_KEY")
local account = os.getenv("GARDIEN_ACCOUNT")
local org = os.getenv("GARDIEN_ORG")
local session = os.getenv("GARDIEN_SESSION")
local csrf_cookie = os.getenv("CSRF_COOKIE")
local csrf_token = os.getenv("CSRF_TOKEN")
local role = os.getenv("GARDIEN_ROLE")
local accounts = tonumber(os.getenv("ACCOUNTS") or "50")
local run = os.getenv("SOAK_RUN") or "0"
local password = "violet tractor under the rain"

-- Per-thread state is global in each thread's interpreter: done() reads
-- it back through the thread objects.
thread_id = 0
errors = 0
first_error = ""
local threads = {}
function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

local counter = 0
request = function()
  counter = counter + 1
  if mode == "check" then
    return wrk.format("POST", "/api/v1/check", {
      ["Content-Type"] = "application/json",
      ["Authorization"] = "Bearer " .. key,
    }, string.format('{"account_id":"%s","organization_id":"%s","permission":"team.read"}', account, org))
  elseif mode == "login" then
    local i = counter % accounts
    local ip = string.format("10.%d.%d.%d", math.random(0, 255), math.random(0, 255), math.random(1, 254))
    return wrk.format("POST", "/api/v1/login", {
      ["Content-Type"] = "application/json",
      ["Cookie"] = csrf_cookie,
      ["X-CSRF-Token"] = csrf_token,
      ["X-Forwarded-For"] = ip,
    }, string.format('{"email":"soak-%d@example.com","password":"%s"}', i, password))
  elseif mode == "invite" then
    local body = string.format(
      '{"email":"soak-%s-%d-%d@example.com","first_name":"Soak","last_name":"Invite","kind":"staff","role_id":"%s"}',
      run, thread_id, counter, role)
    return wrk.format("POST", "/api/v1/organizations/" .. org .. "/invitations", {
      ["Content-Type"] = "application/json",
      ["Cookie"] = csrf_cookie .. "; " .. session,
      ["X-CSRF-Token"] = csrf_token,
    }, body)
  else
    return wrk.format("GET", "/o/" .. org .. "/team", { ["Cookie"] = session })
  end
end

function delay()
  return delay_ms
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    errors = errors + 1
    if first_error == "" then
      first_error = status .. " " .. string.sub(body or "", 1, 200)
    end
  end
end

function done(summary, latency, requests)
  local bad = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout
  local first = ""
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("errors")
    if first == "" then first = thread:get("first_error") end
  end
  io.write(string.format("soak %s: %d requests, %d errors, p50 %.2f ms, p99 %.2f ms\n",
    mode, summary.requests, bad, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
  if first ~= "" then io.write("first error: " .. first .. "\n") end
end
