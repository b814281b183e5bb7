describe("bin/lugo (the REPL)", function()
  local h = require "spec.helper"
  local lua = jit and "luajit" or "lua5.4"

  -- Feed lines to bin/lugo through a pseudo-terminal (script(1)), with a
  -- pause before each; returns what the terminal showed, CRs removed.
  local function session(steps)
    local feed = {}
    for _, s in ipairs(steps) do
      feed[#feed + 1] = ("sleep %s; printf '%%s\\n' %q"):format(s[1], s[2])
    end
    local out = os.tmpname()
    local cmd = ("(%s; sleep 0.3) | LUGO_LUA=%s timeout 20 script -qfec bin/lugo /dev/null > %s 2>&1")
      :format(table.concat(feed, "; "), lua, out)
    assert(os.execute(cmd))
    local f = assert(io.open(out))
    local text = f:read("*a"):gsub("\r", "")
    f:close()
    os.remove(out)
    return text
  end

  it("keeps goroutines and tickers running while it waits at the prompt", function()
    local text = session {
      { 0.3, 'tk = lugo.ticker(0.1); lugo.go(function() for i = 1, 3 do tk.c:recv(); print("tick " .. i) end; tk:stop() end)' },
      { 1.0, 'print("typed after the ticks")' },
    }
    local t1 = text:find("tick 1", 1, true)
    local t3 = text:find("tick 3", 1, true)
    local typed = text:find('print("typed', 1, true)
    assert.is_truthy(t1, text)
    assert.is_truthy(t3, text)
    assert.is_truthy(typed, text)
    assert.is_true(t1 < t3 and t3 < typed, text)  -- ticks came before the next input
    assert.matches("\ntyped after the ticks\n", text)
  end)

  it("prints expressions, takes multi-line statements and reports errors", function()
    local text = session {
      { 0.2, "1 + 2" },
      { 0.1, "function f(x)" },
      { 0.1, "  return x * 2" },
      { 0.1, "end" },
      { 0.1, "f(21), 'two'" },
      { 0.1, "error('oops')" },
      { 0.1, "lugo.sleep(0.05); print('slept')" },
    }
    assert.matches("\n3\n", text)
    assert.matches(">> ", text)
    assert.matches("\n42\ttwo\n", text)
    assert.matches("oops", text)  -- LuaJIT loses the position in a tail call
    assert.matches("\nslept\n", text)
  end)

  it("reads a script from a pipe when stdin is not a terminal", function()
    local p = assert(io.popen("printf '%s\\n' 'print(40 + 2)' | LUGO_LUA=" .. lua .. " bin/lugo"))
    local text = p:read("*a")
    p:close()
    assert.matches("42", text)
  end)
end)
