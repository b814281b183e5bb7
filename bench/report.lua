--- Print bench/run.sh's table from its results and errors files.
--   lua5.4 bench/report.lua RESULTS ERRORS "col1 col2 …"

--   (arg 4: the BENCH_SCALE the sizes were multiplied by)

local tbl = dofile("bench/table.lua")  -- run from the repo root
local fmt, print_table = tbl.num, tbl.print
local results_file, errors_file, columns_arg = arg[1], arg[2], arg[3]
local scale = tonumber(arg[4]) or 1

local ROWS = {
  -- workload, label, key, metric
  { "spawn", "1 spawn+park", "spawn_ns", "ns/spawn" },
  { "spawn", "", "wake_ns", "ns/wake" },
  { "spawn", "", "park_bytes", "B/parked G" },
  { "coroutine", "1b bare coroutine", "park_bytes", "B/parked co" },
  { "pingpong", "2 ping-pong", "rt_ns", "ns/round trip" },
  { "buffered", "3 buffered 128", "item_ns", "ns/item" },
  { "select_block", "4a select, blocking", "select_ns", "ns/select" },
  { "select_default", "4b select+default", "select_ns", "ns/item" },
  { "select_timeout", "4c select+after(1)", "select_ns", "ns/select" },
  { "pool", "5 worker pool", "job_ns", "ns/job" },
  { "pool", "", "overhead_ns", "sched ns/job" },
  { "capi", "5b C API floor", "select_ns", "ns/select" },
  { "capi", "", "calls_ns", "ns/4 calls" },
  { "sleep", "6 sleepers", "wall_s", "wall s" },
  { "sleep", "", "peak_rss_mb", "peak RSS MB" },
  { "sleep", "", "late_min_ms", "late min ms" },
  { "sleep", "", "late_p50_ms", "late p50 ms" },
  { "sleep", "", "late_p99_ms", "late p99 ms" },
  { "sleep", "", "late_max_ms", "late max ms" },
}

local columns = {}
for c in columns_arg:gmatch("%S+") do columns[#columns + 1] = c end

local val, ran = {}, {}
for line in io.lines(results_file) do
  local c, w, k, v = line:match("^(%S+) (%S+) (%S+) (%S+)$")
  if c then
    local key, x = c .. " " .. w .. " " .. k, tonumber(v)
    if not val[key] or x < val[key] then val[key] = x end  -- best run
    ran[c .. " " .. w] = true
  end
end
-- Errors, one line per column and message, naming the workloads it hit.
local errs, errlist, errwhere = {}, {}, {}
for line in io.lines(errors_file) do
  local c, w, msg = line:match("^(%S+) (%S+) (.*)$")
  if c then
    errs[c .. " " .. w] = true
    local k = c .. ": " .. msg
    if not errwhere[k] then
      errwhere[k] = {}
      errlist[#errlist + 1] = k
    end
    table.insert(errwhere[k], w)
  end
end
for i, k in ipairs(errlist) do
  local c, msg = k:match("^(.-): (.*)$")
  errlist[i] = ("%s %s: %s"):format(c, table.concat(errwhere[k], ","), msg)
end


local function cell(c, w, k)
  local v = val[c .. " " .. w .. " " .. k]
  if v then return fmt(v) end
  if errs[c .. " " .. w] then return "ERR" end
  if c == "pure-5.4" and w == "sleep" then return "n/a" end
  return "-"
end

local function ratio(c, w, k)
  local a, b = val[c .. " " .. w .. " " .. k], val["go " .. w .. " " .. k]
  if not (a and b) or b == 0 then return "" end
  return ("%.2f"):format(a / b)
end

local ratio_cols = {}
for _, c in ipairs(columns) do
  if c:match("^lugo") then
    ratio_cols[#ratio_cols + 1] = c
  end
end

local head = { "workload", "metric" }
for _, c in ipairs(columns) do head[#head + 1] = c end
for _, c in ipairs(ratio_cols) do head[#head + 1] = c:gsub("^lugo%-", "") .. "/go" end

local rows = { head }
local seen = {}
for _, r in ipairs(ROWS) do
  local w, label, key, metric = r[1], r[2], r[3], r[4]
  local wanted = false
  for _, c in ipairs(columns) do
    if ran[c .. " " .. w] or errs[c .. " " .. w] then wanted = true end
  end
  if wanted then
    if label == "" and not seen[w] then label = w end
    seen[w] = true
    local row = { label, metric }
    for _, c in ipairs(columns) do row[#row + 1] = cell(c, w, key) end
    for _, c in ipairs(ratio_cols) do row[#row + 1] = ratio(c, w, key) end
    rows[#rows + 1] = row
  end
end

print_table(rows)

-- Extra counts worth knowing when reading 4b and 4c.
local notes = {}
for _, c in ipairs(columns) do
  local d = val[c .. " select_default default_hits"]
  local t = val[c .. " select_timeout timeouts"]
  if d or t then
    notes[#notes + 1] = ("%s %s/%s"):format(c,
      d and ("%d"):format(d) or "-", t and ("%d"):format(t) or "-")
  end
end
local function size(n)
  n = math.max(1, math.floor(n * scale))
  if n >= 1e6 and n % 1e6 == 0 then return ("%dM"):format(n // 1e6) end
  if n >= 1e3 and n % 1e3 == 0 then return ("%dk"):format(n // 1e3) end
  return tostring(n)
end
print()
print("ratios: lugo / go (below 1: lugo faster or smaller)")
print(("1  %s goroutines each park in recv on one channel; one close wakes them;"
  .. " B/parked G = (VmHWM when all parked - VmRSS before) / N"):format(size(1e6)))
print(("1b %s bare coroutines parked in coroutine.yield, no scheduler: the"
  .. " interpreter's own floor under B/parked G (pure columns only)"):format(size(1e6)))
print(("2  %s round trips over two unbuffered channels"):format(size(1e6)))
print(("3  %s items, one producer, one consumer, capacity 128"):format(size(1e7)))
print(("4  two producers send %s each; one consumer selects: a) blocking on two"
  .. " unbuffered channels, b) with default (capacity 128, yield on default),"
  .. " c) as a) plus a new after(1) case each time"):format(size(1e6)))
print(("5  %s jobs (sum 1..100) to 4 workers over jobs/results channels of"
  .. " capacity 128; sched = (pool time - serial time) / N"):format(size(1e6)))
print(("5b %s calls, no channel work: a select+default loop reading 2 cases,"
  .. " and a job's 4 channel method calls, through C functions that only read"
  .. " their arguments (bench/capi.c): the floor under 4b and 5 sched of any C"
  .. " API binding (pure columns only)"):format(size(1e7)))
print(("6  %s goroutines sleep a random 0-1 s; late = actual wake - intended")
  :format(size(1e5)))
if #notes > 0 then
  print("   4b defaults taken / 4c timeouts fired: " .. table.concat(notes, ", "))
end
if #errlist > 0 then
  print()
  print("errors:")
  for _, e in ipairs(errlist) do print("  " .. e) end
end
