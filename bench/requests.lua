-- wrk script: each thread (one connection per thread) sends its own list of requests exactly
-- once, times each one with a monotonic clock, and stops when its list is done.
-- Input:  $CVBENCH_DIR/req-<thread>.txt, lines "METHOD<TAB>PATH<TAB>JSON BODY<TAB>BEARER<TAB>KIOSK"
-- Output: $CVBENCH_DIR/done-<thread>.txt, "start end" (seconds) then "status ms" per request.
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } cvb_timespec;
int clock_gettime(int clk_id, cvb_timespec *tp);
]]
local ts = ffi.new("cvb_timespec")
local function now()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9
end

local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

local reqs, results = {}, {}
local i, sent_at, started, finished = 0, 0, nil, false
local dir

function init(args)
  dir = os.getenv("CVBENCH_DIR")
  local f = io.open(dir .. "/req-" .. id .. ".txt", "r")
  if f then
    for line in f:lines() do
      local method, path, body, bearer, kiosk =
        line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t?([^\t]*)\t?(.*)$")
      local headers = {["Content-Type"] = "application/json"}
      if bearer ~= nil and bearer ~= "" then headers["Authorization"] = "Bearer " .. bearer end
      if kiosk ~= nil and kiosk ~= "" then headers["X-Kiosk-Token"] = kiosk end
      if method == "GET" then body = nil end
      reqs[#reqs + 1] = wrk.format(method, path, headers, body)
    end
    f:close()
  end
end

local function finish()
  finished = true
  local f = io.open(dir .. "/done-" .. id .. ".txt", "w")
  f:write(string.format("%.6f %.6f\n", started or now(), now()))
  for _, r in ipairs(results) do f:write(r, "\n") end
  f:close()
  wrk.thread:stop()
end

local verified = false
function request()
  -- wrk calls request() once on thread 0 to verify the script before the thread starts.
  if id == 0 and not verified then
    verified = true
    return reqs[1] or wrk.format("GET", "/__cvbench_idle")
  end
  if i >= #reqs or finished then
    -- With one connection per thread, request() is only called once the previous answer is in
    -- (or lost: wrk reconnects after the server closed the connection, e.g. a worker recycled by
    -- max_requests). Either way this thread is done; a lost request counts as an error.
    if not finished then finish() end
    return wrk.format("GET", "/__cvbench_idle")
  end
  i = i + 1
  sent_at = now()
  if started == nil then started = sent_at end
  return reqs[i]
end

function response(status, headers, body)
  if finished then return end
  results[#results + 1] = string.format("%d %.3f", status, (now() - sent_at) * 1000)
  if #results >= #reqs then finish() end
end
