-- wrk script: each thread (one connection per thread) sends its own list of requests exactly
-- once, in order, times each one with a monotonic clock, and stops when its list is done.
-- A thread is one client (a tablet, a desk): it keeps the cookies it is given (Set-Cookie) and
-- the last CSRF token a page showed it, and puts that token where a body or header says {csrf}.
-- Input:  $CVBENCH_DIR/req-<thread>.txt, one request a line, fields separated by tabs:
--         METHOD PATH TAG EXPECT BODY HEADER... (HEADER = "Name: value"; fields escaped with
--         \t \n \r \\; EXPECT: a text the answer's body must contain, or empty)
-- Output: $CVBENCH_DIR/done-<thread>.txt, "start end" (seconds) then "status ms tag ok" a line.
-- Pacing: with $CVBENCH_PACE_MS > 0 a client thinks before each request (the first included,
-- so clients start spread out) for a random time, uniform in [0.5, 1.5] x that mean: a person
-- at a tablet or a desk, not a loop. Think time is not part of a request's latency. wrk opens
-- every connection at the start, and gunicorn's gthread worker gives a new connection a thread
-- until its first request arrives; a browser sends its request as soon as it has connected, so
-- a paced client first sends one unmeasured request (GET /__cvbench_idle) on connecting, and
-- thinks only after that.
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

local unescapes = {t = "\t", n = "\n", r = "\r", ["\\"] = "\\"}
local function unescape(s)
  return (s:gsub("\\(.)", unescapes))
end

local reqs, results = {}, {}
local i, sent_at, started, finished = 0, 0, nil, false
local dir
local csrf = ""
local jar = {} -- cookie name -> value

local pace = 0

function init(args)
  dir = os.getenv("CVBENCH_DIR")
  pace = tonumber(os.getenv("CVBENCH_PACE_MS") or "0") or 0
  math.randomseed(id * 7919 + 17)
  local f = io.open(dir .. "/req-" .. id .. ".txt", "r")
  if f then
    for line in f:lines() do
      local fields = {}
      for field in (line .. "\t"):gmatch("([^\t]*)\t") do fields[#fields + 1] = unescape(field) end
      local r = {method = fields[1], path = fields[2], tag = fields[3], expect = fields[4],
                 body = fields[5], headers = {}}
      for k = 6, #fields do
        local name, value = fields[k]:match("^([^:]+):%s*(.*)$")
        if name then r.headers[name] = value end
      end
      if r.body == "" then r.body = nil end
      reqs[#reqs + 1] = r
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

local function build(r)
  local headers = {}
  for name, value in pairs(r.headers) do headers[name] = value:gsub("{csrf}", csrf) end
  local cookies = {}
  for name, value in pairs(jar) do cookies[#cookies + 1] = name .. "=" .. value end
  if #cookies > 0 then
    local given = headers["Cookie"]
    headers["Cookie"] = table.concat(cookies, "; ") .. (given and ("; " .. given) or "")
  end
  local body = r.body and r.body:gsub("{csrf}", csrf) or nil
  return wrk.format(r.method, r.path, headers, body)
end

local opened, hello = false, false

function delay()
  if pace <= 0 or not opened then return 0 end
  return math.floor(pace * (0.5 + math.random()))
end

local verified = false
function request()
  -- wrk calls request() once on thread 0 to verify the script before the thread starts.
  if id == 0 and not verified then
    verified = true
    return reqs[1] and build(reqs[1]) or wrk.format("GET", "/__cvbench_idle")
  end
  if pace > 0 and not opened then
    opened, hello = true, true
    return wrk.format("GET", "/__cvbench_idle")
  end
  if i >= #reqs or finished then
    -- With one connection per thread, request() is only called once the previous answer is in
    -- (or lost: wrk reconnects after the server closed the connection). Either way this thread
    -- is done; a lost request counts as an error.
    if not finished then finish() end
    return wrk.format("GET", "/__cvbench_idle")
  end
  i = i + 1
  sent_at = now()
  if started == nil then started = sent_at end
  return build(reqs[i])
end

function response(status, headers, body)
  if finished then return end
  if hello then
    hello = false
    return
  end
  local ms = (now() - sent_at) * 1000
  local r = reqs[i]
  local ok = 1
  if r and r.expect ~= "" and not (body and body:find(r.expect, 1, true)) then ok = 0 end
  results[#results + 1] = string.format("%d %.3f %s %d", status, ms, r and r.tag or "-", ok)
  if body then
    local token = body:match('name="csrf_token"[^>]-value="([^"]+)"')
      or body:match('name="csrf%-token" content="([^"]+)"')
    if token then csrf = token end
  end
  local set = headers["Set-Cookie"] or headers["set-cookie"]
  if set then
    local name, value = set:match("^%s*([^=;]+)=([^;]*)")
    if name then jar[name] = value end
  end
  if #results >= #reqs then finish() end
end
