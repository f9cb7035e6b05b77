-- wrk script for pushes sent straight to the fake LINE platform: the baseline of channeld's
-- push rate (tools/bench/run drives it; see README.md here).
--
--   wrk -t2 -c64 -d10s -s push.lua http://FAKE_LINE -- FILE THREADS 0 RUN
--
-- FILE holds one push target per line: access_token TAB user_id (bench.py writes it in the
-- order bench_grpc_load --mode=push goes round the OAs and their users). Thread i of THREADS
-- goes round lines i, i + THREADS, ... (OFFSET, the third argument, shifts i as in
-- webhook.lua). Each request is POST /v2/bot/message/push with that channel's token as Bearer,
-- one text message, and an X-Line-Retry-Key of its own: a UUID made of RUN (8 hex digits, new
-- per wrk process), the thread and a per-thread counter, so no key repeats within a run.
--
-- done() prints one line: BENCH_JSON {...} with the counts and latency percentiles (us).

-- bench_report(), from the file beside this one.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "wrk_report.lua")

local thread_count = 0

function setup(thread)
  thread:set("thread_index", thread_count)
  thread_count = thread_count + 1
end

function init(args)
  local source = args[1]
  local stride = tonumber(args[2]) or 1
  local offset = tonumber(args[3]) or 0
  run = args[4] or "00000000"
  thread_key = (thread_index + offset) % 65536
  targets = {}
  local line_number = 0
  for line in io.lines(source) do
    if line_number % stride == thread_index + offset then
      local token, to = line:match("^([^\t]*)\t([^\t]*)$")
      targets[#targets + 1] = { auth = "Bearer " .. token, to = to }
    end
    line_number = line_number + 1
  end
  counter = 0
end

function request()
  local target = targets[(counter % #targets) + 1]
  counter = counter + 1
  local key = string.format("%s-%04x-4000-8000-%012d", run, thread_key, counter)
  local body = '{"to":"' .. target.to ..
      '","messages":[{"type":"text","text":"bench push ' .. counter .. '"}]}'
  return wrk.format("POST", "/v2/bot/message/push", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = target.auth,
    ["X-Line-Retry-Key"] = key,
  }, body)
end

function done(summary, latency, requests_summary)
  bench_report(summary, latency, summary.requests, 0)
end
