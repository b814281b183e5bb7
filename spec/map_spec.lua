describe("lugo.map", function()
  local h = require "spec.helper"
  local lugo = h.lugo
  local core = require "lugo.core"
  -- Lua 5.4 keeps integers and floats apart; LuaJIT has only doubles.
  local mtype = math.type or function() return nil end
  local INTS = math.type ~= nil

  local function sorted(t)
    table.sort(t, function(a, b)
      if type(a) ~= type(b) then return type(a) < type(b) end
      if type(a) == "boolean" then return not a and b end
      return a < b
    end)
    return t
  end

  describe("core.map()", function()
    it("makes an empty map", function()
      local m = core.map()
      assert.equal(0, #m)
      assert.same({}, m:keys())
      assert.is_nil(m:get("anything"))
    end)

    it("makes a new map each time", function()
      local m1, m2 = core.map(), core.map()
      assert.not_equal(m1, m2)
      m1:set("k", 1)
      assert.is_nil(m2:get("k"))
    end)

    it("prints as lugo.map and an address", function()
      assert.matches("^lugo%.map: 0x%x+$", tostring(core.map()))
    end)
  end)

  describe(":set() and :get()", function()
    it("keep booleans, numbers and strings", function()
      local m = core.map()
      m:set("t", true)
      m:set("f", false)
      m:set("i", 42)
      m:set("n", -2.5)
      m:set("s", "hello")
      assert.equal(true, m:get("t"))
      assert.equal(false, m:get("f"))  -- stored: false is no deletion
      assert.equal(42, m:get("i"))
      assert.equal(-2.5, m:get("n"))
      assert.equal("hello", m:get("s"))
      assert.equal(5, #m)
    end)

    it("keeps integers integers and floats floats", function()
      if not INTS then return end
      local m = core.map()
      m:set("i", 3)
      m:set("f", 3.0)
      m:set("max", math.maxinteger)
      assert.equal("integer", mtype(m:get("i")))
      assert.equal("float", mtype(m:get("f")))
      assert.equal(math.maxinteger, m:get("max"))
    end)

    it("copies strings of any bytes and length", function()
      local m = core.map()
      local big = string.rep("0123456789", 100000)
      local bin = "a\0b\0\255"
      m:set("empty", "")
      m:set("big", big)
      m:set(bin, bin)
      assert.equal("", m:get("empty"))
      assert.equal(big, m:get("big"))
      assert.equal(bin, m:get(bin))
      assert.is_nil(m:get("a"))  -- a prefix up to the NUL is another key
    end)

    it("replaces the value of a key", function()
      local m = core.map()
      m:set("k", "one")
      m:set("k", 2)
      m:set("k", "three")
      assert.equal("three", m:get("k"))
      assert.equal(1, #m)
    end)

    it("deletes a key set to nil", function()
      local m = core.map()
      m:set("k", 1)
      m:set("k", nil)
      assert.is_nil(m:get("k"))
      assert.equal(0, #m)
      m:set("absent", nil)
      assert.equal(0, #m)
    end)

    it("treats a float with an integer value as the integer key, as Lua does", function()
      local m = core.map()
      m:set(1.0, "one")
      m:set(-0.0, "zero")
      assert.equal("one", m:get(1))
      assert.equal("zero", m:get(0))
      m:set(2, "two")
      assert.equal("two", m:get(2.0))
      m:set(0.5, "half")
      assert.equal("half", m:get(0.5))
      assert.equal(4, #m)
      if INTS then
        for _, k in ipairs(m:keys()) do
          if k ~= 0.5 then assert.equal("integer", mtype(k)) end
        end
      end
    end)

    it("keeps keys of different types apart", function()
      local m = core.map()
      m:set(1, "number")
      m:set("1", "string")
      m:set(true, "true")
      m:set(false, "false")
      assert.equal("number", m:get(1))
      assert.equal("string", m:get("1"))
      assert.equal("true", m:get(true))
      assert.equal("false", m:get(false))
      assert.equal(4, #m)
    end)

    it("expires an entry after its ttl", function()
      local m = core.map()
      m:set("short", "v", 0.02)
      m:set("long", "v", 60)
      m:set("never", "v")
      m:set("zero", "v", 0)
      m:set("negative", "v", -1)
      assert.equal("v", m:get("short"))
      assert.equal(5, #m)
      lugo.sleep(0.05)
      assert.is_nil(m:get("short"))
      assert.equal("v", m:get("long"))
      assert.equal("v", m:get("never"))
      assert.equal("v", m:get("zero"))
      assert.equal("v", m:get("negative"))
      assert.equal(4, #m)
    end)

    it("gives an existing key the new ttl", function()
      local m = core.map()
      m:set("k", 1, 0.01)
      m:set("k", 2)
      lugo.sleep(0.03)
      assert.equal(2, m:get("k"))
      m:set("k", 3, 0.01)
      lugo.sleep(0.03)
      assert.is_nil(m:get("k"))
    end)

    it("expires at once with a ttl too small to measure", function()
      local m = core.map()
      m:set("k", 1, 1e-12)
      lugo.sleep(0.001)
      assert.is_nil(m:get("k"))
    end)

    it("is the same map in every goroutine", function()
      local m = core.map()
      local wg = lugo.waitgroup()
      for i = 1, 10 do
        wg:add(1)
        lugo.go(function()
          lugo.yield()
          m:set(i, i * i)
          wg:done()
        end)
      end
      wg:wait()
      for i = 1, 10 do assert.equal(i * i, m:get(i)) end
    end)

    it("holds thousands of keys", function()
      local m = core.map()
      for i = 1, 20000 do
        m:set(i, -i)
        m:set("k" .. i, i)
      end
      assert.equal(40000, #m)
      for i = 1, 20000 do
        assert.equal(-i, m:get(i))
        assert.equal(i, m:get("k" .. i))
      end
      for i = 1, 20000 do m:delete("k" .. i) end
      assert.equal(20000, #m)
      assert.equal(20000, #m:keys())
    end)
  end)

  describe(":add()", function()
    it("sets only a key that is absent", function()
      local m = core.map()
      assert.is_true(m:add("k", "first"))
      assert.is_false(m:add("k", "second"))
      assert.equal("first", m:get("k"))
      m:delete("k")
      assert.is_true(m:add("k", "third"))
      assert.equal("third", m:get("k"))
    end)

    it("sets a key whose entry has expired", function()
      local m = core.map()
      assert.is_true(m:add("k", 1, 0.01))
      assert.is_false(m:add("k", 2))
      lugo.sleep(0.03)
      assert.is_true(m:add("k", 3))
      assert.equal(3, m:get("k"))
    end)

    it("sets false, which is a value", function()
      local m = core.map()
      assert.is_true(m:add("k", false))
      assert.is_false(m:add("k", true))
      assert.equal(false, m:get("k"))
    end)
  end)

  describe(":incr()", function()
    it("adds to a number and returns the new value", function()
      local m = core.map()
      m:set("n", 10)
      assert.equal(15, m:incr("n", 5))
      assert.equal(12, m:incr("n", -3))
      assert.equal(12, m:get("n"))
    end)

    it("keeps integers integers; a float makes a float", function()
      local m = core.map()
      m:set("n", 1)
      assert.equal(3, m:incr("n", 2))
      if INTS then assert.equal("integer", mtype(m:get("n"))) end
      assert.equal(3.5, m:incr("n", 0.5))
      assert.equal(4.5, m:incr("n", 1))
      if INTS then
        assert.equal("float", mtype(m:get("n")))
        m:set("f", 1.0)
        assert.equal("float", mtype(m:incr("f", 1)))
      end
    end)

    it("wraps around at the integer limits on Lua 5.4", function()
      if not INTS then return end
      local m = core.map()
      m:set("n", math.maxinteger)
      assert.equal(math.mininteger, m:incr("n", 1))
    end)

    it("starts a missing key at init", function()
      local m = core.map()
      assert.equal(11, m:incr("n", 1, 10))
      assert.equal(12, m:incr("n", 1, 10))  -- init only when missing
      assert.equal(0.5, m:incr("f", 0.5, 0))
      assert.equal(2, #m)
    end)

    it("treats an expired entry as missing, and keeps a live one's ttl", function()
      local m = core.map()
      m:set("n", 100, 0.01)
      assert.equal(101, m:incr("n", 1))
      lugo.sleep(0.03)
      assert.is_nil(m:get("n"))
      h.raises("lugo.map: incr of missing key", function() m:incr("n", 1) end)
      assert.equal(1, m:incr("n", 1, 0))
      lugo.sleep(0.02)
      assert.equal(1, m:get("n"))  -- the new entry has no ttl
    end)

    it("raises on a missing key without init", function()
      local m = core.map()
      h.raises("lugo.map: incr of missing key", function() m:incr("n", 1) end)
      h.raises("lugo.map: incr of missing key", function() m:incr("n", 1, nil) end)
      assert.equal(0, #m)
    end)

    it("raises on a value that is not a number, and leaves it", function()
      local m = core.map()
      m:set("s", "10")
      m:set("b", true)
      h.raises("lugo.map: incr of a non-number value", function() m:incr("s", 1) end)
      h.raises("lugo.map: incr of a non-number value", function() m:incr("b", 1, 0) end)
      assert.equal("10", m:get("s"))
      assert.equal(true, m:get("b"))
    end)
  end)

  describe(":delete()", function()
    it("removes a key, and ignores a missing one", function()
      local m = core.map()
      m:set("a", 1)
      m:set("b", 2)
      m:delete("a")
      m:delete("a")
      m:delete("never there")
      assert.is_nil(m:get("a"))
      assert.equal(2, m:get("b"))
      assert.equal(1, #m)
    end)
  end)

  describe(":keys() and #", function()
    it("list and count the live keys", function()
      local m = core.map()
      m:set("a", 1)
      m:set(2, 2)
      m:set(true, 3)
      m:set(2.5, 4)
      m:set("gone", 5, 0.01)
      assert.equal(5, #m)
      lugo.sleep(0.03)
      assert.equal(4, #m)
      assert.same(sorted({ true, 2, 2.5, "a" }), sorted(m:keys()))
    end)

    it("is a snapshot: later changes do not show", function()
      local m = core.map()
      m:set("a", 1)
      local ks = m:keys()
      m:set("b", 2)
      assert.same({ "a" }, ks)
    end)
  end)

  describe("bad input", function()
    local m = core.map()
    local KINDS = "boolean, number or string expected"

    it("raises on a key that is not a boolean, number or string", function()
      h.raises("bad argument #1 to 'set' (" .. KINDS .. ", got table)",
        function() m:set({}, 1) end)
      h.raises("bad argument #1 to 'set' (" .. KINDS .. ", got nil)",
        function() m:set(nil, 1) end)
      h.raises("bad argument #1 to 'get' (" .. KINDS .. ", got no value)",
        function() m:get() end)
      h.raises("bad argument #1 to 'add' (" .. KINDS .. ", got function)",
        function() m:add(print, 1) end)
      h.raises("bad argument #1 to 'incr' (" .. KINDS .. ", got thread)",
        function() m:incr(coroutine.create(print), 1) end)
      h.raises("bad argument #1 to 'delete' (" .. KINDS .. ", got lugo.map)",
        function() m:delete(m) end)
      assert.equal(0, #m)
    end)

    it("raises on a NaN key", function()
      h.raises("bad argument #1 to 'set' (key is NaN)", function() m:set(0 / 0, 1) end)
      h.raises("bad argument #1 to 'get' (key is NaN)", function() m:get(0 / 0) end)
    end)

    it("raises on a value that is not a boolean, number or string", function()
      h.raises("bad argument #2 to 'set' (" .. KINDS .. ", got table)",
        function() m:set("k", {}) end)
      h.raises("bad argument #2 to 'set' (" .. KINDS .. ", got lugo.map)",
        function() m:set("k", m) end)
      h.raises("bad argument #2 to 'add' (" .. KINDS .. ", got nil)",
        function() m:add("k", nil) end)
      h.raises("bad argument #2 to 'add' (" .. KINDS .. ", got no value)",
        function() m:add("k") end)
      -- Deleting takes an explicit nil: a forgotten value is an error.
      h.raises("bad argument #2 to 'set' (" .. KINDS .. ", got no value)",
        function() m:set("k") end)
      assert.is_nil(m:get("k"))
    end)

    it("raises on a bad ttl", function()
      h.raises("bad argument #3 to 'set' (number expected, got table)",
        function() m:set("k", 1, {}) end)
      h.raises("bad argument #3 to 'set' (ttl is NaN)",
        function() m:set("k", 1, 0 / 0) end)
      h.raises("bad argument #3 to 'add' (ttl is NaN)",
        function() m:add("k", 1, 0 / 0) end)
      assert.is_nil(m:get("k"))
    end)

    it("raises on an increment or init that is not a number", function()
      h.raises("bad argument #2 to 'incr' (number expected, got string)",
        function() m:incr("k", "1") end)
      h.raises("bad argument #2 to 'incr' (number expected, got no value)",
        function() m:incr("k") end)
      h.raises("bad argument #3 to 'incr' (number expected, got string)",
        function() m:incr("k", 1, "0") end)
      assert.is_nil(m:get("k"))
    end)

    it("raises when called on something that is not a map", function()
      h.raises("lugo.map expected", function() m.get({}, 1) end)
      h.raises("lugo.map expected", function() m.set(core.atomic(), 1, 1) end)
    end)
  end)

  describe("across processors", function()
    it("is one map for goroutines of every processor", function()
      local out = h.subprocess([[
        local lugo = require "lugo"
        local core = require "lugo.core"
        lugo.procs(4)
        local m, wg = core.map(), lugo.waitgroup()
        wg:add(8)
        for i = 1, 8 do
          lugo.spawn(function(m, wg, i)
            for j = 1, 500 do
              m:incr("n", 1, 0)
              m:add("k" .. j, i)
            end
            wg:done()
          end, m, wg, i)
        end
        wg:wait()
        print(m:get("n"), #m)
      ]])
      assert.equal("4000\t501\n", out)
    end)
  end)
end)

describe("lugo.atomic", function()
  local h = require "spec.helper"
  local lugo = h.lugo
  local core = require "lugo.core"
  local INTS = math.type ~= nil

  it("starts at 0, or at the given integer", function()
    assert.equal(0, core.atomic():load())
    assert.equal(-7, core.atomic(-7):load())
    assert.equal(3, core.atomic(3.0):load())
    if INTS then assert.equal("integer", math.type(core.atomic(3.0):load())) end
  end)

  it(":store() and :load()", function()
    local a = core.atomic()
    a:store(42)
    assert.equal(42, a:load())
    a:store(-1)
    assert.equal(-1, a:load())
  end)

  it(":add() returns the new value", function()
    local a = core.atomic(10)
    assert.equal(15, a:add(5))
    assert.equal(5, a:add(-10))
    assert.equal(5, a:load())
  end)

  it(":cas() swaps only from the expected value", function()
    local a = core.atomic(1)
    assert.is_false(a:cas(2, 3))
    assert.equal(1, a:load())
    assert.is_true(a:cas(1, 3))
    assert.equal(3, a:load())
  end)

  it("wraps around at the integer limits on Lua 5.4", function()
    if not INTS then return end
    local a = core.atomic(math.maxinteger)
    assert.equal(math.mininteger, a:add(1))
    assert.is_true(a:cas(math.mininteger, math.maxinteger))
    assert.equal(math.maxinteger, a:load())
  end)

  it("is shared by goroutines", function()
    local a = core.atomic()
    local wg = lugo.waitgroup()
    for _ = 1, 10 do
      wg:add(1)
      lugo.go(function()
        for _ = 1, 100 do a:add(1); lugo.yield() end
        wg:done()
      end)
    end
    wg:wait()
    assert.equal(1000, a:load())
  end)

  it("prints as lugo.atomic and an address", function()
    assert.matches("^lugo%.atomic: 0x%x+$", tostring(core.atomic()))
  end)

  it("raises on a value that is not an integer", function()
    local a = core.atomic()
    h.raises("bad argument #1 to 'atomic' (number has no integer representation)",
      function() core.atomic(1.5) end)
    h.raises("bad argument #1 to 'atomic' (number expected, got string)",
      function() core.atomic("1") end)
    h.raises("bad argument #1 to 'store' (number has no integer representation)",
      function() a:store(0.5) end)
    h.raises("bad argument #1 to 'store' (number expected, got no value)",
      function() a:store() end)
    h.raises("bad argument #1 to 'add' (number has no integer representation)",
      function() a:add(1 / 0) end)
    h.raises("bad argument #2 to 'cas' (number expected, got no value)",
      function() a:cas(0) end)
    h.raises("bad argument #1 to 'cas' (number has no integer representation)",
      function() a:cas(0 / 0, 1) end)
    assert.equal(0, a:load())
  end)

  it("raises when called on something that is not an atomic", function()
    local a = core.atomic()
    h.raises("lugo.atomic expected", function() a.load(core.map()) end)
  end)

  it("is one integer for goroutines of every processor", function()
    local out = h.subprocess([[
      local lugo = require "lugo"
      local core = require "lugo.core"
      lugo.procs(4)
      local a, wg = core.atomic(), lugo.waitgroup()
      wg:add(8)
      for i = 1, 8 do
        lugo.spawn(function(a, wg)
          for _ = 1, 1000 do
            a:add(1)
            local old
            repeat old = a:load() until a:cas(old, old + 2)
          end
          wg:done()
        end, a, wg)
      end
      wg:wait()
      print(a:load())
    ]])
    assert.equal("24000\n", out)
  end)
end)
