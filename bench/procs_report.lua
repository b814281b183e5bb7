--- The processors section's table (bench/run.sh): best value per cell of
-- "column workload key value" lines, columns lua5.4/1 lua5.4/2 luajit/1
-- luajit/2 go/1 go/2, then lugo's speedup from 1 to 2 processors and its
-- ratio to Go on 2.
local best, rows, seen = {}, {}, {}
for line in io.lines(arg[1]) do
  local col, w, key, v = line:match("^(%S+) (%S+) (%S+) (%S+)$")
  if col then
    local row = w .. " " .. key
    if not seen[row] then seen[row] = true; rows[#rows + 1] = row end
    local k = row .. "|" .. col
    v = tonumber(v)
    if not best[k] or v < best[k] then best[k] = v end
  end
end
local cols = { "lua5.4/1", "lua5.4/2", "luajit/1", "luajit/2", "go/1", "go/2" }
local function fmt(v)
  if not v then return "-" end
  return v >= 100 and ("%.0f"):format(v) or ("%.3g"):format(v)
end
io.write(("%-22s"):format("processors (ns/op)"))
for _, c in ipairs(cols) do io.write(("%10s"):format(c)) end
io.write(("%10s%10s%10s\n"):format("5.4 1->2", "5.4/go2", "jit/go2"))
for _, row in ipairs(rows) do
  local v = {}
  io.write(("%-22s"):format(row))
  for i, c in ipairs(cols) do
    v[i] = best[row .. "|" .. c]
    io.write(("%10s"):format(fmt(v[i])))
  end
  local sp = v[1] and v[2] and v[1] / v[2]
  io.write(("%10s%10s%10s\n"):format(sp and ("%.2fx"):format(sp) or "-",
    v[2] and v[6] and ("%.2f"):format(v[2] / v[6]) or "-",
    v[4] and v[6] and ("%.2f"):format(v[4] / v[6]) or "-"))
end
print("copy_ns: encode + decode of the 10-field table alone, one processor")
