-- busted output handler for .ci/test.sh (`busted -o .ci/busted_lines.lua`).
-- One line per test, the format the C tests use too:
--   ok <full test name>
--   not ok <full test name>: <file>:<line>   (where known)
--       <message, indented; for an error also its traceback>
-- Unlike busted's TAP handler it survives errors outside an `it` (a spec file
-- that does not load), so the other files still run and are counted. With
-- --verbose it also prints "# <name>" as a test starts: after a crash, the
-- last such line names the test that crashed.
return function(options)
  local busted = require "busted"
  local handler = require "busted.outputHandlers.base"()

  local function out(s)
    io.write(s, "\n")
    io.flush()
  end

  local function indented(s)
    if type(s) ~= "string" then s = require("pl.pretty").write(s) end
    s = s:gsub("%s+$", "")
    return "    " .. (s:gsub("\n", "\n    "))
  end

  local function reporter(with_traceback)
    return function(element, _, message, trace)
      local t = trace or element.trace or {}
      local where = t.currentline
        and (": " .. t.short_src .. ":" .. t.currentline)
      out("not ok " .. handler.getFullName(element) .. (where or ""))
      out(indented(message == nil and "nil error" or message))
      if with_traceback and t.traceback then out(indented(t.traceback)) end
      return nil, true
    end
  end

  local function test_start(element)
    if options.verbose then out("# " .. handler.getFullName(element)) end
    return nil, true
  end

  local function test_end(element, _, status)
    local name = handler.getFullName(element)
    if status == "success" then out("ok " .. name)
    elseif status == "pending" then out("# pending: " .. name)
    end -- failures and errors were reported as they happened
    return nil, true
  end

  busted.subscribe({ "test", "start" }, test_start,
    { predicate = handler.cancelOnPending })
  busted.subscribe({ "test", "end" }, test_end,
    { predicate = handler.cancelOnPending })
  busted.subscribe({ "failure" }, reporter(false))
  busted.subscribe({ "error" }, reporter(true))
  return handler
end
