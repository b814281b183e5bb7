describe("lugo.chan", function()
  local h = require "spec.helper"
  local lugo = h.lugo

  describe("lugo.chan()", function()
    it("is unbuffered by default", function()
      local ch = lugo.chan()
      assert.equal(0, ch:cap())
      assert.equal(0, #ch)
      assert.equal(0, lugo.chan(nil):cap())
      assert.equal(0, lugo.chan(0):cap())
    end)

    it("takes a capacity", function()
      assert.equal(1, lugo.chan(1):cap())
      assert.equal(10, lugo.chan(10):cap())
      assert.equal(10, lugo.chan(10, {}):cap())
    end)

    it("counts in integers where Lua has them", function()
      if not math.type then return end  -- LuaJIT: numbers only
      local ch = lugo.chan(3)
      ch:send(1)
      assert.equal("integer", math.type(#ch))
      assert.equal("integer", math.type(ch:cap()))
      assert.equal("integer", math.type(lugo.stats().goroutines))
      ch:recv()
    end)

    it("takes a huge capacity", function()
      local ch = lugo.chan(1e6)
      assert.equal(1e6, ch:cap())
      for i = 1, 1e5 do ch:send(i) end
      assert.equal(1e5, #ch)
      local sum = 0
      for _ = 1, 1e5 do sum = sum + ch:recv() end
      assert.equal(1e5 * (1e5 + 1) / 2, sum)
    end)

    it("raises on a negative or too large capacity", function()
      assert.has_error(function() lugo.chan(-1) end, "makechan: size out of range")
      assert.has_error(function() lugo.chan(2 ^ 53) end, "makechan: size out of range")
      assert.has_error(function() lugo.chan(-2 ^ 63) end, "makechan: size out of range")
      assert.has_error(function() lugo.chan(math.huge) end)
    end)

    it("raises on a capacity that is not a number", function()
      h.raises("number expected", lugo.chan, {})
      h.raises("number expected", lugo.chan, true)
    end)
  end)

  describe(":send() and :recv()", function()
    it("hand a value from one goroutine to another", function()
      local ch = lugo.chan()
      lugo.go(function() ch:send(42) end)
      local v, ok = ch:recv()
      assert.equal(42, v)
      assert.is_true(ok)
      lugo.run()
    end)

    it("pass tables by reference", function()
      local ch = lugo.chan(1)
      local t = {}
      ch:send(t)
      assert.equal(t, (ch:recv()))
    end)

    it("pass any non-nil value, false included", function()
      local co = coroutine.create(function() end)
      local values = { false, true, 0, -1.5, 2 ^ 60, "", "text", print, co, io.stdout, lugo.chan() }
      local ch = lugo.chan(#values)
      for _, v in ipairs(values) do ch:send(v) end
      for _, want in ipairs(values) do
        local v, ok = ch:recv()
        assert.equal(want, v)
        assert.is_true(ok)
      end
      if math.type then
        ch:send(1)
        ch:send(1.0)
        ch:send(math.maxinteger)
        ch:send(math.mininteger)
        assert.equal("integer", math.type((ch:recv())))
        assert.equal("float", math.type((ch:recv())))
        local big, small = ch:recv(), ch:recv()
        assert.equal("integer", math.type(big))
        assert.equal(math.maxinteger, big)
        assert.equal(math.mininteger, small)
      end
    end)

    it("block an unbuffered sender until a receiver takes the value", function()
      local ch = lugo.chan()
      local sent = false
      lugo.go(function() ch:send(1); sent = true end)
      lugo.yield()
      assert.is_false(sent)
      assert.equal(1, (ch:recv()))
      lugo.run()
      assert.is_true(sent)
    end)

    it("block a receiver until a sender comes", function()
      local ch = lugo.chan()
      local got
      lugo.go(function() got = ch:recv() end)
      lugo.yield()
      assert.is_nil(got)
      lugo.go(function() ch:send("late") end)
      lugo.run()
      assert.equal("late", got)
    end)

    it("fill the buffer without blocking, then block", function()
      local ch = lugo.chan(3)
      for i = 1, 3 do ch:send(i) end
      assert.equal(3, #ch)
      local fourth = false
      lugo.go(function() ch:send(4); fourth = true end)
      lugo.yield()
      assert.is_false(fourth)
      assert.equal(1, (ch:recv()))
      lugo.run()
      assert.is_true(fourth)
      assert.same({ 2, 3, 4 }, { ch:recv(), (ch:recv()), (ch:recv()) })
    end)

    it("keep values and waiting goroutines in FIFO order", function()
      local ch = lugo.chan(100)
      for i = 1, 100 do ch:send(i) end
      for i = 1, 100 do assert.equal(i, (ch:recv())) end

      local recvd = {}
      local unbuf = lugo.chan()
      for i = 1, 5 do
        lugo.go(function() recvd[i] = unbuf:recv() end)
        lugo.yield() -- receiver i is parked before receiver i+1 starts
      end
      for i = 1, 5 do unbuf:send(i * 10) end
      lugo.run()
      assert.same({ 10, 20, 30, 40, 50 }, recvd)

      for i = 1, 5 do
        lugo.go(function() unbuf:send(i) end)
        lugo.yield()
      end
      for i = 1, 5 do assert.equal(i, (unbuf:recv())) end
      lugo.run()
    end)

    it("move 100,000 values between a producer and a consumer", function()
      for _, cap in ipairs { 0, 1, 64 } do
        local ch = lugo.chan(cap)
        local sum = 0
        lugo.go(function()
          for i = 1, 1e5 do ch:send(i) end
          ch:close()
        end)
        lugo.run(function()
          for v in ch:range() do sum = sum + v end
        end)
        assert.equal(1e5 * (1e5 + 1) / 2, sum)
      end
    end)

    it("send raises on nil", function()
      local ch = lugo.chan(1)
      assert.has_error(function() ch:send(nil) end, "cannot send nil on a channel")
      assert.has_error(function() ch:send() end, "cannot send nil on a channel")
      assert.equal(0, #ch)
      ch:close()  -- the nil check comes first, closed or not
      assert.has_error(function() ch:send() end, "cannot send nil on a channel")
    end)

    it("send raises on a closed channel", function()
      local ch = lugo.chan(1)
      ch:close()
      assert.has_error(function() ch:send(1) end, "send on closed channel")
      assert.equal(0, #ch)
    end)

    it("send raises in a sender blocked when the channel closes", function()
      for _, cap in ipairs { 0, 1 } do
        local ch = lugo.chan(cap)
        if cap == 1 then ch:send("kept") end
        local errs = {}
        for i = 1, 3 do
          lugo.go(function()
            local ok, err = pcall(ch.send, ch, i)
            errs[i] = not ok and err
          end)
        end
        lugo.yield()
        ch:close()
        lugo.run()
        for i = 1, 3 do assert.matches("send on closed channel", errs[i], 1, true) end
        if cap == 1 then assert.equal("kept", (ch:recv())) end
        assert.same({ n = 2, nil, false }, h.pack(ch:recv()))
      end
    end)

    it("recv on an empty channel on the main thread with nothing to wake it deadlocks", function()
      local ch = lugo.chan(1)
      assert.has_error(function() ch:recv() end, h.DEADLOCK)
      ch:send(1) -- the runtime is still usable, the channel too
      assert.equal(1, (ch:recv()))
    end)

    it("send on a full channel on the main thread with nothing to wake it deadlocks", function()
      local ch = lugo.chan(1)
      ch:send(1)
      assert.has_error(function() ch:send(2) end, h.DEADLOCK)
      assert.equal(1, #ch)
      assert.equal(1, (ch:recv()))
      assert.equal(0, #ch)
    end)

    it("a main-thread call that raised leaves no waiter behind", function()
      local ch = lugo.chan()
      assert.has_error(function() ch:recv() end, h.DEADLOCK)
      assert.is_false(ch:trysend(1))
      lugo.go(function() error("meanwhile") end)
      h.raises("meanwhile", ch.send, ch, 1)
      assert.same({ n = 2, nil, nil }, h.pack(ch:tryrecv()))
    end)

    it("raise on a receiver that is not a channel", function()
      local ch = lugo.chan()
      h.raises("lugo.chan expected, got number", ch.send, 42, 1)
      h.raises("lugo.chan expected", ch.recv, {})
      h.raises("lugo.chan expected", ch.close, "x")
    end)
  end)

  describe(":trysend()", function()
    it("returns false when it would block", function()
      assert.is_false(lugo.chan():trysend(1))
      local ch = lugo.chan(1)
      assert.is_true(ch:trysend(1))
      assert.is_false(ch:trysend(2))
      assert.equal(1, #ch)
    end)

    it("hands the value to a parked receiver", function()
      local ch = lugo.chan()
      local got
      lugo.go(function() got = ch:recv() end)
      lugo.yield()
      assert.is_true(ch:trysend("direct"))
      lugo.run()
      assert.equal("direct", got)
    end)

    it("raises on a closed channel and on nil", function()
      local ch = lugo.chan(1)
      assert.has_error(function() ch:trysend(nil) end, "cannot send nil on a channel")
      ch:close()
      assert.has_error(function() ch:trysend(1) end, "send on closed channel")
    end)
  end)

  describe(":tryrecv()", function()
    it("returns nil, nil when it would block", function()
      assert.same({ n = 2, nil, nil }, h.pack(lugo.chan():tryrecv()))
      assert.same({ n = 2, nil, nil }, h.pack(lugo.chan(5):tryrecv()))
    end)

    it("returns a buffered value", function()
      local ch = lugo.chan(2)
      ch:send(false)
      local v, ok = ch:tryrecv()
      assert.is_false(v)
      assert.is_true(ok)
    end)

    it("takes the value of a parked sender", function()
      local ch = lugo.chan()
      local done = false
      lugo.go(function() ch:send("parked"); done = true end)
      lugo.yield()
      assert.same({ "parked", true }, { ch:tryrecv() })
      lugo.run()
      assert.is_true(done)
    end)

    it("returns nil, false once closed and drained", function()
      local ch = lugo.chan(1)
      ch:send(7)
      ch:close()
      assert.same({ 7, true }, { ch:tryrecv() })
      for _ = 1, 3 do
        assert.same({ n = 2, nil, false }, h.pack(ch:tryrecv()))
      end
    end)
  end)

  describe(":close()", function()
    it("lets receivers drain the buffer, then gives nil, false for ever", function()
      local ch = lugo.chan(3)
      ch:send(1)
      ch:send(2)
      ch:close()
      assert.equal(2, #ch)
      assert.equal(3, ch:cap())
      assert.same({ 1, true }, { ch:recv() })
      assert.same({ 2, true }, { ch:recv() })
      for _ = 1, 10 do
        assert.same({ n = 2, nil, false }, h.pack(ch:recv()))
      end
      assert.equal(0, #ch)
    end)

    it("wakes every blocked receiver with nil, false", function()
      local ch = lugo.chan()
      local results = {}
      for i = 1, 100 do
        lugo.go(function() results[i] = h.pack(ch:recv()) end)
      end
      lugo.yield()
      ch:close()
      lugo.run()
      for i = 1, 100 do assert.same({ n = 2, nil, false }, results[i]) end
    end)

    it("raises when closing twice", function()
      local ch = lugo.chan()
      ch:close()
      assert.has_error(function() ch:close() end, "close of closed channel")
    end)

    it("leaves a closed channel usable for everything but send", function()
      local ch = lugo.chan(2)
      ch:send("a")
      ch:close()
      assert.has_error(function() ch:trysend(1) end, "send on closed channel")
      local seen = {}
      for v in ch:range() do seen[#seen + 1] = v end
      assert.same({ "a" }, seen)
      for _ in ch:range() do error("a drained closed channel yields nothing") end
      assert.equal(1, (lugo.select { { "recv", ch } }))
      -- a closed channel does not stop new channels from working
      local fresh = lugo.chan(1)
      fresh:send(1)
      assert.equal(1, (fresh:recv()))
    end)
  end)

  describe("#ch and :cap()", function()
    it("count buffered values and capacity", function()
      local ch = lugo.chan(10)
      assert.equal(0, #ch)
      for i = 1, 3 do ch:send(i) end
      assert.equal(3, #ch)
      assert.equal(10, ch:cap())
      ch:recv()
      assert.equal(2, #ch)
    end)

    it("are 0 for an unbuffered channel, even with a parked sender", function()
      local ch = lugo.chan()
      lugo.go(function() ch:send(1) end)
      lugo.yield()
      assert.equal(0, #ch)
      assert.equal(0, ch:cap())
      ch:recv()
      lugo.run()
    end)
  end)

  describe(":range()", function()
    it("iterates until the channel is closed and drained", function()
      local ch = lugo.chan()
      lugo.go(function()
        for i = 1, 5 do ch:send(i) end
        ch:close()
      end)
      local seen = {}
      for v in ch:range() do seen[#seen + 1] = v end
      assert.same({ 1, 2, 3, 4, 5 }, seen)
      lugo.run()
    end)

    it("delivers false values", function()
      local ch = lugo.chan(3)
      ch:send(false)
      ch:send(false)
      ch:close()
      local n = 0
      for v in ch:range() do
        assert.is_false(v)
        n = n + 1
      end
      assert.equal(2, n)
    end)

    it("can be left with break and resumed later", function()
      local ch = lugo.chan(4)
      for i = 1, 4 do ch:send(i) end
      ch:close()
      for v in ch:range() do if v == 2 then break end end
      local rest = {}
      for v in ch:range() do rest[#rest + 1] = v end
      assert.same({ 3, 4 }, rest)
    end)

    it("lets several goroutines share the work, each value once", function()
      local jobs, seen, count = lugo.chan(8), {}, 0
      for w = 1, 4 do
        lugo.go(function()
          for v in jobs:range() do
            assert(not seen[v], "value received twice")
            seen[v] = w
            count = count + 1
            lugo.yield()
          end
        end)
      end
      for i = 1, 1000 do jobs:send(i) end
      jobs:close()
      lugo.run()
      assert.equal(1000, count)
    end)
  end)

  -- On LuaJIT, lua/lugo/ffi.lua sends and receives on a local channel's
  -- ring itself while nobody waits on it; these pin what it must keep.
  describe("a buffered channel's ring", function()
    it("keeps FIFO order while the head wraps around", function()
      local ch = lugo.chan(3)
      local f = function() end
      local values = { 1, 2.5, true, false, "s", {}, f, -0.0, 2 ^ 53, "", {} }
      local sent, got = 0, {}
      for round = 1, 200 do
        for _ = 1, math.min(round % 3 + 1, 3 - #ch) do  -- the head moves
          sent = sent + 1
          ch:send(values[sent % #values + 1])
        end
        while #ch > round % 2 do got[#got + 1] = ch:recv() end
      end
      while #ch > 0 do got[#got + 1] = ch:recv() end
      assert.equal(sent, #got)
      for i = 1, sent do assert.equal(values[i % #values + 1], got[i]) end
    end)

    it("carries every kind of value, tables and functions by identity", function()
      local co = coroutine.create(function() end)
      local t, f = {}, function() end
      local values = { 0, -7, 0.5, -1e300, 2 ^ 60, math.huge, true, false,
                       "", "text", t, f, print, co, lugo.chan() }
      local ch = lugo.chan(4)
      for round = 1, 3 do  -- the ring has wrapped by the second round
        for i = 1, #values, 4 do
          for k = i, math.min(i + 3, #values) do ch:send(values[k]) end
          for k = i, math.min(i + 3, #values) do
            local v, ok = ch:recv()
            assert.is_true(ok)
            assert.equal(values[k], v, "round " .. round .. ", value " .. k)
          end
        end
      end
      local nan = ch:trysend(0 / 0) and ch:recv()
      assert.is_true(nan ~= nan)
    end)

    it("wraps before it has grown to its capacity, then grows", function()
      local ch = lugo.chan(1000)
      for i = 1, 30 do  -- one value at a time: the first 8 slots, wrapping
        ch:send(i)
        assert.same({ i, true }, { ch:recv() })
      end
      for i = 1, 500 do ch:send(i) end  -- wraps, then grows past 8 slots
      assert.equal(500, #ch)
      for i = 1, 500 do assert.same({ i, true }, { ch:tryrecv() }) end
      assert.same({ n = 2, nil, nil }, h.pack(ch:tryrecv()))
    end)

    it("drains a closed channel in order, then gives nil, false", function()
      local ch = lugo.chan(3)
      ch:send("a")
      assert.equal("a", (ch:recv()))
      ch:send("b")
      ch:send({ "c" })
      ch:send(false)  -- the tail has wrapped past the head
      ch:close()
      assert.has_error(function() ch:send(1) end, "send on closed channel")
      assert.equal("b", (ch:recv()))
      assert.same({ "c" }, (ch:recv()))
      assert.same({ false, true }, { ch:tryrecv() })
      assert.same({ n = 2, nil, false }, h.pack(ch:recv()))
      assert.same({ n = 2, nil, false }, h.pack(ch:tryrecv()))
    end)

    it("lets a parked sender's value in behind the buffered ones", function()
      local ch = lugo.chan(3)
      ch:send(0)
      ch:recv()  -- the head is at slot 1 from here
      for i = 1, 3 do ch:send(i) end
      assert.is_false(ch:trysend("no room"))
      local done = {}
      for i = 4, 5 do
        lugo.go(function() ch:send(i); done[#done + 1] = i end)
        lugo.yield()
      end
      assert.same({}, done)
      assert.equal(3, #ch)
      for i = 1, 5 do assert.equal(i, (ch:recv())) end
      lugo.run()
      table.sort(done)  -- the order they run in is the scheduler's
      assert.same({ 4, 5 }, done)
      assert.same({ n = 2, nil, nil }, h.pack(ch:tryrecv()))
    end)

    it("hands a value to a parked receiver, not to the ring", function()
      local ch = lugo.chan(3)
      ch:send(1)
      ch:recv()
      local got = {}
      lugo.go(function() got[1] = ch:recv() end)
      lugo.yield()
      ch:send("direct")
      ch:send("buffered")
      assert.equal(1, #ch)
      lugo.run()
      assert.same({ "direct" }, got)
      assert.equal("buffered", (ch:recv()))
    end)

    it("is the same ring that #ch, select and close see", function()
      local ch = lugo.chan(2)
      ch:send("x")
      assert.equal(1, #ch)
      local i, v, ok = lugo.select { { "recv", ch } }
      assert.same({ 1, "x", true }, { i, v, ok })
      assert.equal(1, (lugo.select { { "send", ch, "y" } }))
      assert.is_true(ch:trysend("z"))
      assert.is_nil((lugo.select { { "send", ch, "w" }, default = true }))
      assert.same({ "y", "z" }, { ch:recv(), (ch:recv()) })
      assert.matches("^lugo%.chan %(0/2%)", tostring(ch))
    end)

    it("gives each table's slot back once it is received", function()
      local ch = lugo.chan(8)
      local before = collectgarbage("count")
      for _ = 1, 20000 do
        ch:send({})
        ch:recv()
      end
      collectgarbage()
      collectgarbage()
      assert.is_true(collectgarbage("count") < before + 256)
    end)

    it("reads the layout the core reports (LuaJIT)", function()
      if not jit then return end
      local ffi = require "ffi"
      local C = ffi.load(package.searchpath("lugo.core", package.cpath))
      local fields = { "shared", "closed", "cap", "count", "head", "bufcap",
                       "buf", "recvq", "sendq" }
      local off = ffi.new("size_t[?]", #fields + 1)
      assert.equal(#fields + 1, C.lg_chan_layout(off, #fields + 1))
      for i, f in ipairs(fields) do
        assert.equal(tonumber(off[i - 1]), ffi.offsetof("lugo_chan", f), f)
      end
      assert.equal(tonumber(off[#fields]), ffi.sizeof("lugo_value"))
    end)
  end)

  describe("shared channels on one processor", function()
    it("carry numbers and booleans as they are, tables as copies, in order",
      function()
        local ch = lugo.chan(4, { shared = true })
        local t = { 1, { 2 }, s = "x" }
        assert.is_true(ch:trysend(1.5))
        ch:send(true)
        ch:send(t)
        ch:send(7)
        assert.is_false(ch:trysend(8))
        assert.equal(4, #ch)
        assert.equal(1.5, (ch:recv()))
        assert.equal(true, (ch:recv()))
        local u = ch:recv()
        assert.not_equal(t, u)
        assert.same(t, u)
        assert.same({ 7, true }, { ch:tryrecv() })
        assert.same({ nil, nil }, { ch:tryrecv() })
        ch:close()
        assert.same({ nil, false }, { ch:recv() })
        h.raises("send on closed channel", ch.send, ch, 1)
        h.raises("send on closed channel", ch.send, ch, {})
        h.raises("send on closed channel", ch.trysend, ch, 1)
        h.raises("cannot send nil on a channel", ch.send, ch, nil)
        h.raises("cannot send nil on a channel", ch.send, ch)
        h.raises("cannot send nil on a channel", ch.trysend, ch)
        assert.matches("^lugo%.chan %(0/4, closed, shared%)", tostring(ch))
      end)

    it("hand off to a waiting goroutine, and wake it on close", function()
      local ch = lugo.chan(0, { shared = true })
      local got = {}
      lugo.go(function()
        for v in ch:range() do got[#got + 1] = type(v) == "table" and v[1] or v end
        got[#got + 1] = "closed"
      end)
      ch:send(1)
      ch:send({ "two" })
      ch:send(false)
      ch:close()
      lugo.run()
      assert.same({ 1, "two", false, "closed" }, got)
    end)
  end)
end)
