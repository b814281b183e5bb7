--- What bench/report.lua and bench/http/report.lua share: formatting a
-- number for a cell, and printing rows of cells as a table.
local M = {}

--- A measurement with about four significant digits; "" for nil.
function M.num(v)
  if v == nil then return "" end
  local a = math.abs(v)
  if a >= 1000 then return ("%.0f"):format(v)
  elseif a >= 100 then return ("%.1f"):format(v)
  elseif a >= 10 then return ("%.2f"):format(v)
  else return ("%.3f"):format(v) end
end

--- Print rows of strings: the first two columns left-aligned, the others
-- right-aligned, a rule under the header row.
function M.print(rows)
  local width = {}
  for _, row in ipairs(rows) do
    for i, s in ipairs(row) do width[i] = math.max(width[i] or 0, #s) end
  end
  for n, row in ipairs(rows) do
    local out = {}
    for i, s in ipairs(row) do
      if i <= 2 then out[i] = s .. (" "):rep(width[i] - #s)
      else out[i] = (" "):rep(width[i] - #s) .. s end
    end
    print(table.concat(out, "  "))
    if n == 1 then
      local total = 0
      for i = 1, #width do total = total + width[i] + 2 end
      print(("-"):rep(total - 2))
    end
  end
end

return M
