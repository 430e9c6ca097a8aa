-- Signed-in admins at work, for wrk: list_users with varied searches and filters,
-- and one request in ten a write (an edit with the version just read, or a tag added).
-- The bench (server/benches/list.rs) writes the request bodies to files beside this
-- run and passes the session cookie; each wrk thread takes its own share of the edits,
-- so an edit meets a conflict only if another admin saved the same user first.
-- Prints one JSON line at the end.

local reads, edits, taggings = {}, {}, {}
local dir = os.getenv("LOAD_DIR")
local threads = {}
local counter = 0

local function lines(path)
  local out = {}
  for line in io.lines(path) do out[#out + 1] = line end
  return out
end

function setup(thread)
  thread:set("index", #threads)
  threads[#threads + 1] = thread
end

function init(args)
  reads = lines(dir .. "/reads.txt")
  local all_edits = lines(dir .. "/edits.txt")
  local all_tags = lines(dir .. "/tags.txt")
  local count = tonumber(os.getenv("LOAD_THREADS"))
  -- This thread's share: every count-th line from its index.
  for i = index + 1, #all_edits, count do edits[#edits + 1] = all_edits[i] end
  for i = index + 1, #all_tags, count do taggings[#taggings + 1] = all_tags[i] end
  ok, conflicts, server_errors, other, writes, next_edit, next_tag = 0, 0, 0, 0, 0, 1, 1
end

function request()
  counter = counter + 1
  if counter % 10 == 0 then
    writes = writes + 1
    if counter % 20 == 0 and next_edit <= #edits then
      next_edit = next_edit + 1
      return wrk.format("POST", "/api/update_user", nil, edits[next_edit - 1])
    end
    local body = taggings[(next_tag - 1) % #taggings + 1]
    next_tag = next_tag + 1
    return wrk.format("POST", "/api/bulk_users", nil, body)
  end
  return wrk.format("POST", "/api/list_users", nil, reads[(counter * 7919) % #reads + 1])
end

function response(status, headers, body)
  if status >= 200 and status < 300 then
    ok = ok + 1
  elseif status == 409 then
    conflicts = conflicts + 1
  elseif status >= 500 then
    server_errors = server_errors + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local sum = { ok = 0, conflicts = 0, server_errors = 0, other = 0, writes = 0 }
  for _, t in ipairs(threads) do
    for k, _ in pairs(sum) do sum[k] = sum[k] + (t:get(k) or 0) end
  end
  io.write(string.format(
    '{"requests":%d,"seconds":%.3f,"rps":%.1f,"p50_ms":%.2f,"p90_ms":%.2f,"p99_ms":%.2f,"max_ms":%.2f,' ..
    '"ok":%d,"conflicts":%d,"server_errors":%d,"other_status":%d,"writes":%d,' ..
    '"socket_errors":%d,"timeouts":%d}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, sum.ok, sum.conflicts, sum.server_errors, sum.other, sum.writes,
    summary.errors.connect + summary.errors.read + summary.errors.write, summary.errors.timeout))
end
