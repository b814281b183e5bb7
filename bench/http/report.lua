--- Print bench/net.sh's table from its results and errors files.
--   lua5.4 bench/http/report.lua RESULTS ERRORS "col1 col2 …" SECS ECHO_SECS
local tbl = dofile("bench/table.lua")  -- run from the repo root
local fmt, print_table = tbl.num, tbl.print
local results_file, errors_file, columns_arg = arg[1], arg[2], arg[3]
local secs, echo_secs = arg[4] or "?", arg[5] or "?"

local ROWS = {
  -- bench, label, key, metric
  { "http50", "http c=50", "rps", "req/s" },
  { "http50", "", "cpu_us", "CPU us/req" },
  { "http200", "http c=200", "rps", "req/s" },
  { "http200", "", "cpu_us", "CPU us/req" },
  { "echo1", "echo 1 conn", "mbps", "MB/s" },
  { "echo1", "", "cpu_us", "CPU us/MB" },
  { "echo100", "echo 100 conns", "mbps", "MB/s" },
  { "echo100", "", "cpu_us", "CPU us/MB" },
}
-- Throughput: the best run is the highest; CPU time: the lowest.
local HIGHER = { rps = true, mbps = true }

local columns = {}
for c in columns_arg:gmatch("%S+") do columns[#columns + 1] = c end
local has = {}
for _, c in ipairs(columns) do has[c] = true end

local val = {}
for line in io.lines(results_file) do
  local c, b, k, v = line:match("^(%S+) (%S+) (%S+) (%S+)$")
  local x = tonumber(v)
  if x then
    local key, old = c .. " " .. b .. " " .. k, val[c .. " " .. b .. " " .. k]
    if not old or (HIGHER[k] and x > old) or (not HIGHER[k] and x < old) then
      val[key] = x
    end
  end
end
local errs, errlist, seen_err = {}, {}, {}
for line in io.lines(errors_file) do
  local c, b, msg = line:match("^(%S+) (%S+) (.*)$")
  if c then
    errs[c .. " " .. b] = true
    local k = c .. " " .. b .. ": " .. msg
    if not seen_err[k] then
      seen_err[k] = true
      errlist[#errlist + 1] = k
    end
  end
end


local function cell(c, b, k)
  local v = val[c .. " " .. b .. " " .. k]
  if (c:match("^nginx") or c:match("2$")) and b:match("^echo") then
    return "n/a"
  end
  if v and errs[c .. " " .. b] then return fmt(v) .. "!" end
  if v then return fmt(v) end
  if errs[c .. " " .. b] then return "ERR" end
  return "-"
end

local function ratio(a, ref, b, k)
  local x, y = val[a .. " " .. b .. " " .. k], val[ref .. " " .. b .. " " .. k]
  if not (x and y) or y == 0 then return "" end
  return ("%.2f"):format(x / y)
end

-- lugo / nginx, then lugo / go, for the lugo columns present; a column
-- on two processors ("lugo-5.4x2") against nginx2 and go2.
local ratio_cols = {}
for _, ref in ipairs { "nginx", "go", "nginx2", "go2" } do
  if has[ref] then
    for _, c in ipairs(columns) do
      if c:match("^lugo") and (c:match("x2$") ~= nil) == (ref:match("2$") ~= nil) then
        ratio_cols[#ratio_cols + 1] = { c, ref, c:gsub("^lugo%-", "") .. "/" .. ref }
      end
    end
  end
end

local head = { "bench", "metric" }
for _, c in ipairs(columns) do head[#head + 1] = c end
for _, r in ipairs(ratio_cols) do head[#head + 1] = r[3] end

local rows = { head }
for _, r in ipairs(ROWS) do
  local b, label, key, metric = r[1], r[2], r[3], r[4]
  local row = { label, metric }
  for _, c in ipairs(columns) do row[#row + 1] = cell(c, b, key) end
  for _, rc in ipairs(ratio_cols) do row[#row + 1] = ratio(rc[1], rc[2], b, key) end
  rows[#rows + 1] = row
end

print_table(rows)

print()
print("ratios: lugo / nginx and lugo / go (req/s, MB/s: below 1 = lugo slower;"
  .. " CPU: below 1 = lugo cheaper)")
print(("http  hello world keep-alive, wrk -t1 -cN -d%ss on 127.0.0.1; CPU us/req ="
  .. " server utime+stime during the run / requests"):format(secs))
print(("echo  64 KiB blocks sent and read back concurrently for %s s by a Go client"
  .. " (GOMAXPROCS=1); MB = 10^6 bytes each way; CPU us/MB as above"):format(echo_secs))
print("      wrk and the client share the CPUs with the server: req/s and MB/s"
  .. " are often bound by them, CPU per request or MB is the steadier figure")
if #errlist > 0 then
  print()
  print("errors (a value marked ! was measured despite them):")
  for _, e in ipairs(errlist) do print("  " .. e) end
end
