-- wrk script of bench/delivery.py: POST calls of one operation with a bearer token.
--
--   wrk -t T -c C -d S --latency -s bench/delivery_wrk.lua URL -- TOKEN IDS_FILE TAG NOOP
--
-- TOKEN the access token; IDS_FILE identity numbers, one a line; TAG the request ids'
-- prefix (each request's X-Request-ID is TAG-<thread>-<n>, so the ledger's rows of a phase
-- are found by it); NOOP "1" sends X-Sanyi-Bench-Noop: 1 (the gateway's no-op).
-- done() prints one line "WRK-JSON {...}": counts, errors and latency percentiles (ms).

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

local ids, prefix, n = {}, "bench", 0

function init(args)
  local token, path, noop = args[1], args[2], args[4]
  prefix = string.format("%s-%d", args[3], tid or 0)  -- tid: set by setup()
  for line in io.lines(path) do
    if #line > 0 then ids[#ids + 1] = line end
  end
  wrk.method = "POST"
  wrk.headers["Authorization"] = "Bearer " .. token
  wrk.headers["Content-Type"] = "application/json"
  if noop == "1" then wrk.headers["X-Sanyi-Bench-Noop"] = "1" end
end

function request()
  n = n + 1
  local id = ids[(n % #ids) + 1]
  local body = '{"id_number": "' .. id .. '", "consent_ref": "BENCH-' .. n .. '"}'
  -- wrk.format's headers replace wrk.headers: the request id joins them
  wrk.headers["X-Request-ID"] = string.format("%s-%07d", prefix, n)
  return wrk.format(nil, nil, nil, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  local parts = {
    string.format('"requests": %d', summary.requests),
    string.format('"duration_us": %d', summary.duration),
    string.format('"non_2xx": %d', e.status),
    string.format('"errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}',
                  e.connect, e.read, e.write, e.timeout),
  }
  local pcts = {}
  for _, p in ipairs({50, 95, 99}) do
    pcts[#pcts + 1] = string.format('"p%d_ms": %.3f', p, latency:percentile(p) / 1000)
  end
  pcts[#pcts + 1] = string.format('"max_ms": %.3f', latency.max / 1000)
  io.write("WRK-JSON {" .. table.concat(parts, ", ") .. ", " .. table.concat(pcts, ", ")
           .. "}\n")
end
