-- wrk script for channeld's webhook endpoint (tools/bench/run drives it; see README.md here).
--
--   wrk -t2 -c64 -d10s -s webhook.lua http://HOST:PORT -- FILE THREADS
--   wrk -t2 -c64 -d10s -s webhook.lua http://HOST:PORT -- trivial THREADS
--   wrk -t1 -c32 -d10s -s webhook.lua http://HOST:PORT -- FILE STRIDE OFFSET
--   wrk -t2 -c64 -d10s -s webhook.lua http://HOST:PORT -- FILE THREADS 0 READY
--
-- FILE holds pre-signed requests from webhooks.py, one per line: path TAB signature TAB body.
-- Thread i of THREADS sends lines i, i + THREADS, ... once each, so no two requests carry the
-- same webhookEventId. OFFSET (default 0) shifts the thread numbers: two wrk processes of one
-- thread each, given STRIDE 2 and OFFSET 0 and 1, share one file without overlap. A thread
-- that runs out starts its share again (its requests are then duplicates, which the server
-- answers 200 without storing) and the count of such requests is
-- reported as "wrapped". "trivial" sends GET /healthz: the webhook server's cheapest answer
-- (404 today, no disk), the baseline for the ingest rate.
--
-- done() prints one line: BENCH_JSON {...} with the counts and latency percentiles (us).
--
-- READY (a path that does not exist yet) keeps the threads from sending until every thread
-- has read its share. wrk runs each thread's init() on its main thread and starts that thread
-- at once, before the next one's init(); its clock starts after the last. Reading a request
-- file takes seconds, so without READY the first thread sent for that long before the clock
-- started, and its requests counted in the rate. The last thread creates READY when it has
-- read its share; the others wait for it before their first request.

-- bench_report(), from the file beside this one.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "wrk_report.lua")

local thread_count = 0
local threads = {}

function setup(thread)
  thread:set("thread_index", thread_count)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end

-- This thread's requests (every stride-th line of the file, from thread_index + offset).
local function load(source, stride, offset)
  if source == nil or source == "trivial" then
    requests[1] = wrk.format("GET", "/healthz", { ["User-Agent"] = "LineBotWebhook/2.0" }, nil)
    return
  end
  local line_number = 0
  for line in io.lines(source) do
    if line_number % stride == thread_index + offset then
      local path, signature, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
      requests[#requests + 1] = wrk.format("POST", path, {
        ["Content-Type"] = "application/json; charset=utf-8",
        ["User-Agent"] = "LineBotWebhook/2.0",
        ["x-line-signature"] = signature,
      }, body)
    end
    line_number = line_number + 1
  end
  unique = #requests
end

function init(args)
  local source = args[1]
  local stride = tonumber(args[2]) or 1
  local offset = tonumber(args[3]) or 0
  requests = {}
  wrapped = 0
  position = 1
  ready_path = args[4]
  if ready_path ~= nil and offset ~= 0 then
    error("READY needs OFFSET 0 and STRIDE = the number of threads (the last thread makes it)")
  end
  load(source, stride, offset)
  if ready_path ~= nil and thread_index == stride - 1 then
    io.open(ready_path, "w"):close()
    ready_path = nil  -- The last thread is ready by now.
  end
  -- wrk calls the first thread's request() once on its main thread, right after this init,
  -- to check the script: waiting there would keep the next thread's init from ever running.
  checked_by_wrk = thread_index ~= 0
end

-- The longest a thread waits for READY: far more than reading any request file takes.
local ready_timeout_s = 300

-- Before a thread's first request: waits until the last thread has read its share. LuaJIT's
-- FFI gives the sleep between looks (plain Lua has none); only READY's users load it.
local function wait_until_ready()
  local ffi = require("ffi")
  pcall(ffi.cdef, "int usleep(unsigned int usec);")
  local deadline = os.time() + ready_timeout_s
  while true do
    local marker = io.open(ready_path, "r")
    if marker ~= nil then
      marker:close()
      ready_path = nil
      return
    end
    if os.time() > deadline then
      error("READY did not appear in " .. ready_timeout_s .. " s: " .. ready_path)
    end
    ffi.C.usleep(1000)
  end
end

function request()
  if not checked_by_wrk then
    checked_by_wrk = true
  elseif ready_path ~= nil then
    wait_until_ready()
  end
  if position > #requests then
    position = 1
    cycled = unique ~= nil
  end
  local r = requests[position]
  position = position + 1
  if cycled then wrapped = wrapped + 1 end
  return r
end

function done(summary, latency, requests_summary)
  local wrapped_total, unique_total = 0, 0
  for _, thread in ipairs(threads) do
    wrapped_total = wrapped_total + (thread:get("wrapped") or 0)
    unique_total = unique_total + (thread:get("unique") or 0)
  end
  bench_report(summary, latency, unique_total, wrapped_total)
end
