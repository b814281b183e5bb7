--- Print rows of strings as a table: the first two columns left-aligned,
-- the others right-aligned, a rule under the header row. Shared by
-- bench/report.lua and bench/http/report.lua.
return function(rows)
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
