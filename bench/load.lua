-- wrk script: POST a JSON body built from a template, with a random bot per request.
--
--   wrk -t1 -c32 -d10s -s bench/load.lua http://127.0.0.1:8000/graphql -- <ids file> <body file>
--
-- The body file is the request body with placeholders: __ID__ (a random bot id from the ids
-- file), __KEY__ (one of 20 write keys, sorting after every generated key) and __N__ (a random
-- number). Each response is checked: a status other than 200, or a body holding "errors", is an
-- error ("database is locked" is also counted on its own). done() prints one line,
-- BENCH_RESULT {json}, with the counts and the latency percentiles in microseconds.

local ids = {}
local parts = {}
-- globals, so done() can read them from the thread with thread:get
bad_status, gql_errors, locked = 0, 0, 0
local threads = {}

local function read(path)
  local file = assert(io.open(path, "r"))
  local text = file:read("*a")
  file:close()
  return text
end

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for line in read(args[1]):gmatch("[^\n]+") do
    table.insert(ids, line)
  end
  local template = read(args[2])
  local position = 1
  while true do
    local first, last, name = template:find("__(%u+)__", position)
    if not first then break end
    table.insert(parts, template:sub(position, first - 1))
    table.insert(parts, name)
    position = last + 1
  end
  table.insert(parts, template:sub(position))
  math.randomseed(os.time())
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

local values = {
  ID = function() return ids[math.random(#ids)] end,
  KEY = function() return "~bench/" .. math.random(0, 19) end,
  N = function() return tostring(math.random(0, 1000000)) end,
}

function request()
  local body = {}
  for index, part in ipairs(parts) do
    if index % 2 == 0 then body[index] = values[part]() else body[index] = part end
  end
  return wrk.format(nil, nil, nil, table.concat(body))
end

function response(status, headers, body)
  if status ~= 200 then
    bad_status = bad_status + 1
  elseif body:find('"errors"', 1, true) then
    gql_errors = gql_errors + 1
  end
  if body:find("database is locked", 1, true) then
    locked = locked + 1
  end
end

function done(summary, latency, requests)
  local bad, errs, lock = 0, 0, 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("bad_status")
    errs = errs + thread:get("gql_errors")
    lock = lock + thread:get("locked")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,"bad_status":%d,' ..
    '"graphql_errors":%d,"locked":%d,"socket_errors":%d,"timeouts":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, bad, errs, lock,
    e.connect + e.read + e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean))
end
