-- The value encoding lugo.spawn and shared channels copy through. It is
-- reached here by the internal core.encode / core.decode.
describe("value encoding", function()
  local h = require "spec.helper"
  local core = require "lugo.core"
  local encode, decode = core.encode, core.decode
  local is54 = math.type ~= nil

  local function roundtrip(v)
    return decode(encode(v))
  end

  --- The exact message encode(v, name) raises.
  local function encerr(v, name)
    local ok, err = pcall(encode, v, name)
    assert.is_false(ok, "expected an error, got none")
    return err
  end

  describe("round trips", function()
    it("nil and booleans", function()
      assert.is_nil(roundtrip(nil))
      assert.equal(true, roundtrip(true))
      assert.equal(false, roundtrip(false))
    end)

    it("numbers, integers kept apart from floats", function()
      for _, n in ipairs { 0, 1, -1, 127, 128, -65, 2 ^ 31, 2 ^ 53, -2 ^ 53,
                           1.5, -0.25, 1e300, -1e-300, math.huge, -math.huge,
                           math.pi } do
        assert.equal(n, roundtrip(n))
      end
      local nan = roundtrip(0 / 0)
      assert.is_true(nan ~= nan)
      assert.equal(-math.huge, 1 / roundtrip(-0.0))
      if is54 then
        assert.equal("integer", math.type(roundtrip(1)))
        assert.equal("float", math.type(roundtrip(1.0)))
        assert.equal("float", math.type(roundtrip(-0.0)))
        assert.equal(math.maxinteger, roundtrip(math.maxinteger))
        assert.equal(math.mininteger, roundtrip(math.mininteger))
        assert.equal("integer", math.type(roundtrip(math.mininteger)))
      end
    end)

    it("strings, NULs and every byte included", function()
      local bytes = {}
      for i = 0, 255 do bytes[#bytes + 1] = string.char(i) end
      local all = table.concat(bytes)
      assert.equal("", roundtrip(""))
      assert.equal("a\0b\0", roundtrip("a\0b\0"))
      assert.equal(all, roundtrip(all))
    end)

    it("a huge string", function()
      local big = string.rep("0123456789abcdef\0", 1000000)  -- 17 MB
      local s = encode(big)
      assert.is_true(#s < #big + 16)
      assert.equal(big, decode(s))
    end)

    it("functions without upvalues but _ENV, as bytecode", function()
      local f = roundtrip(function(a, b) return a + b, type(print) end)
      local sum, t = f(1, 2)
      assert.equal(3, sum)
      assert.equal("function", t)
      assert.equal(7, roundtrip({ fn = function() return 7 end }).fn())
    end)

    it("functions sent again and many distinct ones (the caches)", function()
      local via = h.lugo.chan(1, { shared = true })
      local function twice(x) return 2 * x end
      for _ = 1, 3 do
        via:send(twice)
        local f = via:recv()
        assert.equal(14, f(7))
      end
      for i = 1, 300 do  -- past the loaded-functions cache's bound
        via:send(load("return " .. i))
        assert.equal(i, via:recv()())
      end
    end)

    it("shared objects by reference, with their methods", function()
      -- through a shared channel: core.decode takes no shared objects
      -- from a string, which could name any address
      local lugo = h.lugo
      local via = lugo.chan(1, { shared = true })
      local function cross(v) via:send({ v }) return via:recv()[1] end
      local wg = lugo.waitgroup()
      local w2 = cross(wg)
      assert.not_equal(wg, w2)
      assert.equal(getmetatable(wg), getmetatable(w2))
      wg:add(1)
      w2:done()
      wg:wait()  -- the same counter, or this would be a deadlock
      local ch = lugo.chan(1, { shared = true })
      cross(ch):send("x")
      assert.equal("x", (ch:recv()))
      local m, a = lugo.map(), lugo.atomic(5)
      cross(m):set("k", 1)
      assert.equal(1, m:get("k"))
      assert.equal(6, cross(a):add(1))
      assert.equal(6, a:load())
      assert.has_error(function() decode(encode(wg)) end,
        "corrupt encoded value")
    end)

    it("nested tables", function()
      local v = { 1, 2, { 3, { 4, "five" } }, a = { b = { c = { d = true } } },
                  list = { "x", "y", n = 2 } }
      assert.same(v, roundtrip(v))
    end)

    it("a cycle: t.self = t", function()
      local t = { name = "t" }
      t.self = t
      local u = roundtrip(t)
      assert.not_equal(t, u)
      assert.equal(u, u.self)
      assert.equal("t", u.self.self.name)
    end)

    it("a longer cycle and a cycle through a key", function()
      local a, b = {}, {}
      a.next, b.next = b, a
      a[b] = "b as a key"
      local u = roundtrip(a)
      assert.equal(u, u.next.next)
      assert.equal("b as a key", u[u.next])
    end)

    it("shared references decode to one table", function()
      local shared = { 1, 2 }
      local u = roundtrip { x = shared, y = shared, list = { shared, shared } }
      assert.equal(u.x, u.y)
      assert.equal(u.x, u.list[1])
      assert.equal(u.x, u.list[2])
      assert.same({ 1, 2 }, u.x)
    end)

    it("keys of every copyable type", function()
      local tk = { "key" }
      local v = { [true] = "t", [false] = "f", [1] = "one", [2.5] = "float",
                  [-7] = "neg", s = "string", ["\0"] = "nul", [tk] = "table" }
      if is54 then
        v[math.maxinteger] = "max"
        v[math.mininteger] = "min"
      end
      local u = roundtrip(v)
      local tables = 0
      for k, x in pairs(u) do
        if type(k) == "table" then
          tables = tables + 1
          assert.same({ "key" }, k)
          assert.equal("table", x)
        else
          assert.equal(v[k], x)
        end
      end
      assert.equal(1, tables)
      for k, x in pairs(v) do
        if type(k) ~= "table" then assert.equal(x, u[k]) end
      end
      if is54 then
        for k in pairs(u) do
          if k == 1 then assert.equal("integer", math.type(k)) end
          if k == 2.5 then assert.equal("float", math.type(k)) end
        end
      end
    end)

    it("a long array and a big table", function()
      local v = {}
      for i = 1, 10000 do v[i] = i * 2 end
      for i = 1, 1000 do v["k" .. i] = { i } end
      assert.same(v, roundtrip(v))
    end)

    it("copies raw contents: metatables stay behind", function()
      local mt = { __index = function() return "meta" end }
      local u = roundtrip(setmetatable({ a = 1 }, mt))
      assert.is_nil(getmetatable(u))
      assert.equal(1, u.a)
      assert.is_nil(u.b)
    end)

    it("200 levels of nesting", function()
      local v = {}
      local t = v
      for _ = 2, 200 do t.a = {}; t = t.a end
      t.leaf = true
      local u = roundtrip(v)
      for _ = 2, 200 do u = u.a end
      assert.is_true(u.leaf)
    end)
  end)

  describe("errors name the path", function()
    it("userdata", function()
      assert.equal("args[2].conn: userdata cannot cross processors",
        encerr({ conn = io.stdout }, "args[2]"))
      assert.equal("value: userdata cannot cross processors", encerr(io.stdout))
      assert.equal("value.ch: a local channel cannot cross processors " ..
        "(make it with lugo.chan(n, {shared = true}))",
        encerr({ ch = h.lugo.chan() }))
    end)

    it("light userdata", function()
      assert.equal("value[1]: light userdata cannot cross processors",
        encerr({ core.PARK }))
    end)

    it("functions: C ones, and Lua ones with upvalues", function()
      assert.equal("args[1][3]: C function cannot cross processors",
        encerr({ 1, 2, print }, "args[1]"))
      assert.equal("value.a.b.c[1]: C function cannot cross processors",
        encerr({ a = { b = { c = { print } } } }))
      local up = 1
      assert.equal("value.f: function with upvalue 'up' cannot cross " ..
        "processors (pass it as an argument, or give the function as " ..
        "\"module.function\")", encerr({ f = function() return up end }))
    end)

    it("threads", function()
      assert.equal("value.co: thread cannot cross processors",
        encerr({ co = coroutine.create(print) }))
      assert.equal("value: thread cannot cross processors",
        encerr(coroutine.create(print)))
    end)

    it("keys of odd types and quoting", function()
      assert.equal('value["a b"][1.5][true]: C function cannot cross processors',
        encerr({ ["a b"] = { [1.5] = { [true] = print } } }))
      assert.equal('value["q\\"\\\\\\10"]: C function cannot cross processors',
        encerr({ ['q"\\\n'] = print }))
      assert.equal('value["' .. string.rep("x", 32) .. '..."]: C function ' ..
        'cannot cross processors', encerr({ [string.rep("x", 50)] = print }))
      assert.equal("value.t: function key cannot cross processors",
        encerr({ t = { [print] = 1 } }))
      assert.equal("value: userdata key cannot cross processors",
        encerr({ [io.stdout] = 1 }))
      assert.equal("value[table key].f: C function cannot cross processors",
        encerr({ [{ f = print }] = 1 }))
      assert.equal("value[table].f: C function cannot cross processors",
        encerr({ [{}] = { f = print } }))
    end)

    it("after a cycle and deep down", function()
      local t = {}
      t.self = t
      t.deep = { { { { bad = coroutine.create(print) } } } }
      assert.equal("value.deep[1][1][1].bad: thread cannot cross processors",
        encerr(t))
    end)

    it("nesting past 200 levels", function()
      local v = {}
      local t = v
      for _ = 1, 200 do t.a = {}; t = t.a end
      assert.equal("value" .. string.rep(".a", 200) ..
        ": tables nested deeper than 200 cannot cross processors", encerr(v))
    end)

    it("a value over the size cap", function()
      assert.equal("value: value too large to cross processors " ..
        "(over 50 bytes encoded)",
        h.errmsg(encode, string.rep("x", 100), nil, 50))
      assert.equal(50, #encode(string.rep("x", 48), nil, 50))
      assert.equal("value: value too large to cross processors " ..
        "(over 67108864 bytes encoded)",
        h.errmsg(encode, { string.rep("x", 64 * 1024 * 1024) }))
    end)

    it("leaves the encoder usable after an error", function()
      for _ = 1, 100 do encerr({ 1, 2, 3, { print } }) end
      collectgarbage()
      assert.same({ 1, { 2 } }, roundtrip { 1, { 2 } })
    end)
  end)

  describe("decode", function()
    it("rejects truncated and corrupt input", function()
      local whole = encode { 1, "two", { 3.5 }, x = true }
      for i = 0, #whole - 1 do
        assert.equal("corrupt encoded value",
          h.errmsg(decode, whole:sub(1, i)))
      end
      for _, bad in ipairs {
        "", whole .. "\0",          -- nothing; trailing bytes
        "\42",                      -- unknown tag
        "\7",                       -- end without a table
        "\8\0",                     -- reference to no table
        "\6\0\0\0\1\7",             -- a nil key
        "\6\0\0\7\0",               -- end as a value
        "\5\9abc",                  -- string longer than the input
      } do
        assert.equal("corrupt encoded value", h.errmsg(decode, bad))
      end
    end)

    it("rejects a NaN key", function()
      local nan = encode(0 / 0)
      assert.equal("corrupt encoded value",
        h.errmsg(decode, "\6\0\0" .. nan .. "\1\7"))
    end)

    it("takes no shared object from a string: it names an address", function()
      assert.equal("corrupt encoded value",
        h.errmsg(decode, "\9\1" .. string.rep("\0", 8)))
    end)

    it("never crashes on random bytes", function()
      local seed = encode { 1, -2, 3.5, "str", { a = { b = {} } }, [true] = false }
      local rnd = 12345
      local function rand(n)
        rnd = (rnd * 1103515245 + 12345) % 2147483648
        return rnd % n
      end
      for _ = 1, 3000 do
        local bytes = { seed:byte(1, -1) }
        for _ = 1, 1 + rand(3) do bytes[1 + rand(#bytes)] = rand(256) end
        pcall(decode, string.char(h.unpack(bytes)):sub(1, rand(#bytes + 1)))
      end
    end)
  end)
end)
