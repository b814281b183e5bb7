describe("lugo.select", function()
  local h = require "spec.helper"
  local lugo = h.lugo

  -- A channel that is always ready to receive from (closed: gives nil, false).
  local function closed()
    local ch = lugo.chan()
    ch:close()
    return ch
  end

  describe("with a ready case", function()
    it("returns the index and, for recv, v and ok", function()
      local a, b = lugo.chan(1), lugo.chan(1)
      b:send("bee")
      assert.same({ n = 3, 2, "bee", true }, h.pack(lugo.select { { "recv", a }, { "recv", b } }))
    end)

    it("returns the index of a send case that fired", function()
      local a, b = lugo.chan(), lugo.chan(1)
      local i = lugo.select { { "send", a, 1 }, { "send", b, 2 } }
      assert.equal(2, i)
      assert.equal(2, (b:recv()))
    end)

    it("gives nil, false for a closed channel", function()
      assert.same({ n = 3, 1, nil, false }, h.pack(lugo.select { { "recv", closed() } }))
    end)

    it("delivers false as a value with ok true", function()
      local ch = lugo.chan(1)
      ch:send(false)
      assert.same({ n = 3, 1, false, true }, h.pack(lugo.select { { "recv", ch } }))
    end)

    it("takes the value of a parked sender and wakes it", function()
      local ch = lugo.chan()
      local done = false
      lugo.go(function() ch:send("from g"); done = true end)
      lugo.yield()
      assert.same({ 1, "from g", true }, { lugo.select { { "recv", ch }, default = true } })
      lugo.run()
      assert.is_true(done)
    end)

    it("hands a value to a parked receiver", function()
      local ch = lugo.chan()
      local got
      lugo.go(function() got = ch:recv() end)
      lugo.yield()
      assert.equal(1, lugo.select { { "send", ch, "to g" }, default = true })
      lugo.run()
      assert.equal("to g", got)
    end)

    it("runs only the chosen case: the others keep their values", function()
      local a, b = lugo.chan(1), lugo.chan(1)
      a:send("a")
      local out = lugo.chan(1)
      local i = lugo.select { { "recv", b }, { "recv", a }, { "send", out, "x" } }
      if i == 2 then
        assert.equal(0, #a)
        assert.equal(0, #out)
      else
        assert.equal(3, i)
        assert.equal(1, #a)
        assert.equal(1, #out)
      end
    end)

    it("picks among 1,000 cases the one that is ready", function()
      local cases = {}
      for k = 1, 1000 do cases[k] = { "recv", lugo.chan(1) } end
      cases[777][2]:send("found")
      assert.same({ 777, "found", true }, { lugo.select(cases) })
    end)

    it("takes 5,000 cases, sends among them, and their values stay put",
      function()
        -- Past what fits on a C stack at once (LuaJIT: some 8000 slots).
        local cases, full = {}, lugo.chan(1)
        full:send("kept")
        for k = 1, 5000 do cases[k] = { "send", full, { k } } end
        local free = lugo.chan(1)
        cases[4321] = { "send", free, { "sent" } }
        assert.same({ 4321 }, { lugo.select(cases) })
        assert.same({ "sent" }, free:recv())
        assert.equal("kept", full:recv())
      end)
  end)

  describe("with default = true", function()
    it("returns nil when nothing is ready", function()
      local a, b = lugo.chan(), lugo.chan(1)
      b:send(1) -- full: the send case is not ready
      assert.is_nil(lugo.select { { "recv", a }, { "send", b, 2 }, default = true })
      assert.is_nil(lugo.select { default = true })
    end)

    it("prefers a ready case over default", function()
      local ch = lugo.chan(1)
      ch:send(5)
      for _ = 1, 100 do
        ch:trysend(5)
        assert.equal(1, (lugo.select { { "recv", ch }, default = true }))
      end
    end)

    it("does not rendezvous with itself on one unbuffered channel", function()
      local ch = lugo.chan()
      for _ = 1, 100 do
        assert.is_nil(lugo.select { { "send", ch, 1 }, { "recv", ch }, default = true })
      end
    end)
  end)

  describe("a nil channel", function()
    it("disables its case, value included", function()
      local ch = lugo.chan(1)
      ch:send("ok")
      for _ = 1, 100 do
        ch:trysend("ok")
        local i, v = lugo.select { { "recv", nil }, { "send", nil, nil }, { "send", nil, 3 }, { "recv", ch } }
        assert.equal(4, i)
        assert.equal("ok", v)
      end
    end)

    it("with default only takes default", function()
      assert.is_nil(lugo.select { { "recv", nil }, { "send", nil, 1 }, default = true })
    end)

    it("cases alone block forever: deadlock on the main thread", function()
      assert.has_error(function() lugo.select { { "recv", nil } } end, h.DEADLOCK)
      assert.has_error(function() lugo.select { { "send", nil, 1 } } end, h.DEADLOCK)
      assert.has_error(function() lugo.select { { "recv", nil }, { "send", nil, 1 } } end, h.DEADLOCK)
    end)
  end)

  describe("lugo.select{}", function()
    it("blocks forever: deadlock on the main thread", function()
      assert.has_error(function() lugo.select {} end, h.DEADLOCK)
    end)

    it("still lets other goroutines finish before reporting", function()
      local done = false
      lugo.go(function() lugo.sleep(0.01); done = true end)
      assert.has_error(function() lugo.select {} end, h.DEADLOCK)
      assert.is_true(done)
    end)
  end)

  describe("a blocking select", function()
    it("wakes on the case that becomes ready", function()
      local a, b = lugo.chan(), lugo.chan()
      lugo.go(function() lugo.sleep(0.01); b:send("b") end)
      assert.same({ 2, "b", true }, { lugo.select { { "recv", a }, { "recv", b } } })
      lugo.run()
    end)

    it("wakes on a send case when a receiver comes", function()
      local a, b = lugo.chan(), lugo.chan()
      local got
      lugo.go(function() lugo.sleep(0.01); got = a:recv() end)
      assert.equal(1, lugo.select { { "send", a, "to a" }, { "recv", b } })
      lugo.run()
      assert.equal("to a", got)
    end)

    it("wakes with nil, false when a channel closes", function()
      local a, b = lugo.chan(), lugo.chan()
      lugo.go(function() lugo.yield(); b:close() end)
      assert.same({ n = 3, 2, nil, false }, h.pack(lugo.select { { "recv", a }, { "recv", b } }))
      lugo.run()
    end)

    it("completes exactly one case when several become ready", function()
      local a, b = lugo.chan(), lugo.chan()
      local result
      lugo.go(function() result = { lugo.select { { "recv", a }, { "recv", b } } } end)
      lugo.yield()
      lugo.go(function() a:send("a") end)
      lugo.go(function() b:send("b") end)
      lugo.yield()
      lugo.yield()
      -- one sender got through, the other is still parked with its value
      assert.is_table(result)
      local other = result[1] == 1 and b or a
      local want = result[1] == 1 and "b" or "a"
      assert.equal(want, (other:recv()))
      lugo.run()
    end)

    it("leaves no stale waiter behind on the channels that lost", function()
      -- Go's select6.go: a loser must leave the other queue intact.
      local c1, c2, c3 = lugo.chan(), lugo.chan(), lugo.chan()
      local woke = 0
      lugo.go(function() c1:recv(); woke = woke + 1 end)
      lugo.go(function()
        lugo.select { { "recv", c1 }, { "recv", c2 } }
        c3:send(true)
        c1:recv()
        woke = woke + 1
      end)
      lugo.go(function() c2:send(true) end)
      c3:recv()
      c1:send(true)
      c1:send(true)
      lugo.run()
      assert.equal(2, woke)
    end)

    it("listing one channel twice is woken correctly by another", function()
      -- Go's TestSelectDuplicateChannel.
      local c, d, e = lugo.chan(), lugo.chan(), lugo.chan()
      lugo.go(function()
        lugo.select { { "recv", c }, { "recv", c }, { "recv", d } }
        e:send(true)
      end)
      lugo.yield()
      lugo.go(function() c:recv() end) -- parks behind the select's two entries
      lugo.yield()
      d:send(7)
      e:recv()
      c:send(8) -- must wake the plain receiver, not the finished select
      lugo.run()
    end)

    it("picks a random winner when one event readies several cases", function()
      local ch = lugo.chan()
      local wins = { 0, 0 }
      for _ = 1, 2000 do
        lugo.go(function()
          local i = lugo.select { { "recv", ch }, { "recv", ch } }
          wins[i] = wins[i] + 1
        end)
        lugo.yield() -- the select is parked on both cases
        ch:send(1)
        lugo.run()
      end
      h.between(0.35, wins[1] / 2000, 0.65, "share of case 1")
    end)

    it("is completed once by a trysend or a tryrecv", function()
      local c1, c2 = lugo.chan(), lugo.chan()
      local got
      lugo.go(function() got = { lugo.select { { "recv", c1 }, { "recv", c2 } } } end)
      lugo.yield()
      assert.is_true(c2:trysend("x"))
      assert.is_false(c1:trysend("y"))
      lugo.run()
      assert.same({ 2, "x", true }, got)

      lugo.go(function() got = lugo.select { { "send", c1, "s1" }, { "send", c2, "s2" } } end)
      lugo.yield()
      assert.same({ "s1", true }, { c1:tryrecv() })
      assert.same({ n = 2, nil, nil }, h.pack(c2:tryrecv()))
      lugo.run()
      assert.equal(1, got)
    end)

    it("that raised leaves no waiter behind", function()
      local a, b = lugo.chan(), lugo.chan()
      assert.has_error(function() lugo.select { { "recv", a }, { "send", b, 5 } } end, h.DEADLOCK)
      assert.is_false(a:trysend(1))
      assert.same({ n = 2, nil, nil }, h.pack(b:tryrecv()))
      local ok
      lugo.go(function() ok = pcall(lugo.select, { { "send", a, 1 }, { "recv", b } }) end)
      lugo.yield()
      a:close()
      lugo.run()
      assert.is_false(ok)
      assert.is_false(b:trysend(1))
    end)

    it("times out with lugo.after", function()
      local ch = lugo.chan()
      local t0 = lugo.now()
      local i = lugo.select { { "recv", ch }, { "recv", lugo.after(0.05) } }
      assert.equal(2, i)
      h.between(0.05, lugo.now() - t0, 0.15, "select timeout")
    end)
  end)

  describe("fairness", function()
    it("chooses uniformly among ready recv cases", function()
      local a, b = closed(), closed()
      local wins = { 0, 0 }
      for _ = 1, 10000 do
        local i = lugo.select { { "recv", a }, { "recv", b } }
        wins[i] = wins[i] + 1
      end
      h.between(0.4, wins[1] / 10000, 0.6, "share of case 1")
      h.between(0.4, wins[2] / 10000, 0.6, "share of case 2")
    end)

    it("ignores never-ready cases when choosing (Go's TestSelectFairness)", function()
      local c1, c2, c3, c4 = lugo.chan(16), lugo.chan(16), lugo.chan(), lugo.chan()
      local wins = { 0, 0, 0, 0 }
      for _ = 1, 10000 do
        while c1:trysend(1) do end
        while c2:trysend(2) do end
        local i = lugo.select { { "recv", c3 }, { "recv", c1 }, { "recv", c4 }, { "recv", c2 } }
        wins[i] = wins[i] + 1
      end
      assert.equal(0, wins[1] + wins[3])
      h.between(0.4, wins[2] / 10000, 0.6, "share of c1")
    end)

    it("chooses uniformly among ready cases wherever they sit", function()
      -- a rotation of the cases instead of a shuffle would give case 1
      -- two thirds here: it follows the never-ready case 3
      local a, b, never = lugo.chan(1), lugo.chan(1), lugo.chan(1)
      local wins = { 0, 0, 0 }
      for _ = 1, 12000 do
        a:trysend(1)
        b:trysend(2)
        local i = lugo.select { { "recv", a }, { "recv", b }, { "recv", never } }
        wins[i] = wins[i] + 1
      end
      assert.equal(0, wins[3])
      h.between(0.45, wins[1] / 12000, 0.55, "share of case 1")
    end)

    it("chooses uniformly among ready send cases", function()
      local a, b = lugo.chan(1), lugo.chan(1)
      local wins = { 0, 0 }
      for _ = 1, 10000 do
        local i = lugo.select { { "send", a, 1 }, { "send", b, 2 } }
        wins[i] = wins[i] + 1
        if i == 1 then a:recv() else b:recv() end
      end
      h.between(0.4, wins[1] / 10000, 0.6, "share of case 1")
    end)

    it("chooses uniformly between a ready case and a closed channel", function()
      local ch, done = lugo.chan(1), closed()
      local wins = { 0, 0 }
      for _ = 1, 10000 do
        ch:trysend(true)
        local i = lugo.select { { "recv", ch }, { "recv", done } }
        wins[i] = wins[i] + 1
      end
      h.between(0.4, wins[1] / 10000, 0.6, "share of case 1")
    end)
  end)

  describe("a send case on a closed channel", function()
    it("raises when chosen", function()
      local ch = closed()
      assert.has_error(function() lugo.select { { "send", ch, 1 } } end, "send on closed channel")
    end)

    it("counts as ready, so default is not taken", function()
      local ch = closed()
      for _ = 1, 20 do
        assert.has_error(function()
          lugo.select { { "recv", lugo.chan() }, { "send", ch, 1 }, default = true }
        end, "send on closed channel")
      end
    end)

    it("raises when its channel is closed while the select waits", function()
      local ch = lugo.chan()
      local ok, err
      lugo.go(function()
        ok, err = pcall(lugo.select, { { "recv", lugo.chan() }, { "send", ch, 1 } })
      end)
      lugo.yield()
      ch:close()
      lugo.run()
      assert.is_false(ok)
      assert.matches("send on closed channel", err, 1, true)
    end)
  end)

  describe("bad input", function()
    it("raises on a send case with a nil value", function()
      local ch = lugo.chan(1)
      assert.has_error(function() lugo.select { { "send", ch, nil } } end, "cannot send nil on a channel")
      assert.has_error(function()
        lugo.select { { "send", ch }, default = true }
      end, "cannot send nil on a channel")
      assert.equal(0, #ch)
    end)

    it("raises on something that is not a list of cases", function()
      assert.has_error(function() lugo.select() end)
      assert.has_error(function() lugo.select(42) end)
      assert.has_error(function() lugo.select { 42 } end)
    end)

    it("raises on an unknown op or a non-channel", function()
      local ch = lugo.chan(1)
      ch:send(1)
      h.raises("peek", lugo.select, { { "peek", ch } })
      h.raises("lugo.chan expected, got number", lugo.select, { { "recv", 42 } })
      h.raises("lugo.chan expected", lugo.select, { { "send", {}, 1 } })
      assert.equal(1, #ch) -- nothing happened
    end)
  end)
end)
