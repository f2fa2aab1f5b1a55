-- wrk script for peer-bench.sh (BENCH_DRIVER=wrk): one request per line of PREFIX-<thread>.txt,
-- each line "token<TAB>body" with the body's newlines written as '|'; every line is used once (a
-- fresh key, and for Trent a fresh one-time token, per request). Arguments: PREFIX TARGET, where
-- TARGET is trent (POST /api/v1/enroll, PEM in, PEM chain out, 201) or cfssl (POST
-- /api/v1/cfssl/sign, JSON in, 200 with "success":true). Prints one WRK line, and a WRK_SECONDS line:
-- the good answers in each wall-clock second of the run. (wrk calls
-- request() once on thread 0 before the run to check it: that thread's first line is not sent.)
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  prefix, target = args[1], args[2]
  lines = {}
  for l in io.lines(prefix .. "-" .. id .. ".txt") do lines[#lines + 1] = l end
  i, refused, exhausted = 0, 0, 0
  seconds = {}
end

function request()
  i = i + 1
  if i > #lines then
    -- Out of fresh keys and tokens: no line is sent twice (connections still ready before the
    -- thread stops send a cheap GET, refused and counted); the run is reported as invalid.
    exhausted = 1
    wrk.thread:stop()
    return wrk.format("GET", "/exhausted")
  end
  local line = lines[i]
  local tab = string.find(line, "\t", 1, true)
  local body = string.gsub(string.sub(line, tab + 1), "|", "\n")
  if target == "trent" then
    return wrk.format("POST", "/api/v1/enroll", {
      ["Authorization"] = "Bearer " .. string.sub(line, 1, tab - 1),
      ["Content-Type"] = "application/x-pem-file",
      ["Accept"] = "application/pem-certificate-chain"}, body)
  end
  return wrk.format("POST", "/api/v1/cfssl/sign", {["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
  local good
  if target == "trent" then good = status == 201
  else good = status == 200 and string.find(body, '"success":true', 1, true) ~= nil end
  if not good then refused = refused + 1
  else
    local s = os.time()
    seconds[s] = (seconds[s] or 0) + 1
  end
end

function done(summary, latency, requests)
  local refusedAll, exhaustedAll = 0, 0
  for _, t in ipairs(threads) do
    refusedAll = refusedAll + t:get("refused")
    exhaustedAll = exhaustedAll + t:get("exhausted")
  end
  local e = summary.errors
  local failed = refusedAll + e.connect + e.read + e.write + e.timeout
  local ok = summary.requests - refusedAll
  io.write(string.format("WRK per_s=%.1f p50_ms=%.1f p99_ms=%.1f ok=%d errors=%d exhausted=%d\n",
    ok / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    ok, failed, exhaustedAll))
  -- The good answers per wall-clock second over both threads (the ramp-up of a cold phase).
  local merged, first, last = {}, nil, nil
  for _, t in ipairs(threads) do
    for s, n in pairs(t:get("seconds")) do
      merged[s] = (merged[s] or 0) + n
      if first == nil or s < first then first = s end
      if last == nil or s > last then last = s end
    end
  end
  if first ~= nil then
    local per = {}
    for s = first, last do per[#per + 1] = tostring(merged[s] or 0) end
    io.write("WRK_SECONDS " .. table.concat(per, ",") .. "\n")
  end
end
