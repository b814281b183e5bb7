describe("the main thread", function()
  local h = require "spec.helper"
  local lugo = h.lugo

  describe("a blocking call at top level", function()
    it("drives the scheduler until it completes", function()
      local ch = lugo.chan()
      local steps = 0
      lugo.go(function()
        for _ = 1, 3 do steps = steps + 1; lugo.yield() end
        ch:send("done")
      end)
      assert.equal(0, steps)
      assert.equal("done", (ch:recv()))
      assert.equal(3, steps)
      lugo.run()
    end)

    it("works for every kind of blocking call", function()
      local ch, wg, mu, sem = lugo.chan(), lugo.waitgroup(), lugo.mutex(), lugo.semaphore(1)
      lugo.go(function() ch:send(1) end)
      assert.equal(1, (ch:recv()))
      lugo.go(function() ch:recv() end)
      ch:send(2)
      lugo.go(function() ch:send(3) end)
      assert.same({ 1, 3, true }, { lugo.select { { "recv", ch } } })
      wg:add(1)
      lugo.go(function() lugo.sleep(0.005); wg:done() end)
      wg:wait()
      mu:lock()
      lugo.go(function() lugo.sleep(0.005); mu:unlock() end)
      mu:lock()
      mu:unlock()
      sem:acquire()
      lugo.go(function() lugo.sleep(0.005); sem:release() end)
      sem:acquire()
      sem:release()
      lugo.go(function() for i = 1, 3 do ch:send(i) end; ch:close() end)
      local n = 0
      for _ in ch:range() do n = n + 1 end
      assert.equal(3, n)
      lugo.run()
    end)

    it("lets goroutines run while it sleeps", function()
      local ticks = 0
      lugo.go(function()
        for _ = 1, 5 do lugo.sleep(0.005); ticks = ticks + 1 end
      end)
      lugo.sleep(0.1)
      assert.equal(5, ticks)
    end)

    it("raises the error of a goroutine that fails meanwhile", function()
      local ch = lugo.chan()
      lugo.go(function() error("broke while main waited") end)
      lugo.go(function() lugo.sleep(0.01); ch:send(1) end)
      h.raises("broke while main waited", ch.recv, ch)
      -- the call can be made again and completes
      assert.equal(1, (ch:recv()))
      lugo.run()
    end)

    it("raises the deadlock error and the runtime stays usable", function()
      local ch = lugo.chan()
      local got = {}
      for i = 1, 3 do lugo.go(function() got[i] = ch:recv() end) end
      assert.has_error(function() lugo.chan():recv() end, h.DEADLOCK)
      assert.equal(3, lugo.stats().blocked)
      for i = 1, 3 do ch:send(i * 10) end
      lugo.run()
      table.sort(got)
      assert.same({ 10, 20, 30 }, got)
    end)
  end)

  describe("a user's coroutine inside a goroutine", function()
    it("passes a park through to the scheduler and back", function()
      local ch = lugo.chan()
      lugo.go(function()
        for i = 1, 3 do ch:send(i) end
        ch:close()
      end)
      local a, b, c = lugo.run(function()
        local gen = coroutine.wrap(function()
          for v in ch:range() do coroutine.yield(v * 10) end
        end)
        return gen(), gen(), gen()
      end)
      assert.same({ 10, 20, 30 }, { a, b, c })
      lugo.run()
    end)

    it("keeps the user's yields for the user", function()
      local log = {}
      local results = lugo.run(function()
        local co = coroutine.create(function(x)
          log[#log + 1] = "start " .. x
          lugo.sleep(0.005)
          local y = coroutine.yield("first")
          lugo.yield()
          log[#log + 1] = "got " .. y
          return "last"
        end)
        local r = {}
        r[1] = { coroutine.resume(co, "x") }
        assert.equal("suspended", coroutine.status(co))
        r[2] = { coroutine.resume(co, "y") }
        assert.equal("dead", coroutine.status(co))
        return r
      end)
      assert.same({ { true, "first" }, { true, "last" } }, results)
      assert.same({ "start x", "got y" }, log)
    end)

    it("lets other goroutines run while it is parked", function()
      local other = 0
      lugo.go(function() for _ = 1, 5 do other = other + 1; lugo.yield() end end)
      local seen = lugo.run(function()
        local gen = coroutine.wrap(function()
          lugo.sleep(0.01)
          coroutine.yield(other)
        end)
        return gen()
      end)
      assert.equal(5, seen)
      lugo.run()
    end)

    it("sees itself in coroutine.running() before and after a park", function()
      lugo.run(function()
        local co
        co = coroutine.create(function()
          local before = coroutine.running()
          lugo.sleep(0.001)
          local after = coroutine.running()
          coroutine.yield(before == co, after == co)
        end)
        local ok, before, after = coroutine.resume(co)
        assert.is_true(ok)
        assert.is_true(before)
        assert.is_true(after)
      end)
    end)

    it("passes parks through nested coroutines", function()
      local ch = lugo.chan(1)
      lugo.go(function() lugo.sleep(0.005); ch:send("deep") end)
      local v = lugo.run(function()
        local outer = coroutine.wrap(function()
          local inner = coroutine.wrap(function()
            local got = ch:recv()
            coroutine.yield("inner:" .. got)
          end)
          coroutine.yield("outer:" .. inner())
        end)
        return outer()
      end)
      assert.equal("outer:inner:deep", v)
      lugo.run()
    end)

    it("reports an error after a park through resume", function()
      local ok, err = lugo.run(function()
        local co = coroutine.create(function()
          lugo.sleep(0.001)
          error("inside", 0)
        end)
        return coroutine.resume(co)
      end)
      assert.is_false(ok)
      assert.equal("inside", err)
    end)

    it("raises send on closed channel into the coroutine, not the goroutine", function()
      local ch = lugo.chan()
      lugo.go(function() lugo.sleep(0.005); ch:close() end)
      local ok, err = lugo.run(function()
        return coroutine.resume(coroutine.create(function() ch:send(1) end))
      end)
      assert.is_false(ok)
      assert.matches("send on closed channel", err, 1, true)
      lugo.run()
    end)
  end)

  describe("a goroutine's own coroutine", function()
    it("cannot be resumed by user code while it is parked", function()
      -- in a child process: if it can, this process's runtime is broken
      local out = h.subprocess [[
        local lugo = require "lugo"
        local ch = lugo.chan()
        local co, got
        lugo.go(function()
          co = coroutine.running()
          got = ch:recv()
        end)
        lugo.yield()
        print("resume", (coroutine.resume(co, "bogus")))
        ch:send("real")
        lugo.run()
        print("got", got)
      ]]
      assert.equal("resume\tfalse\ngot\treal\n", out)
    end)

    it("is told apart from a coroutine of the user's inside it", function()
      local results = lugo.run(function()
        local self = coroutine.running()
        local co = coroutine.create(function()
          coroutine.yield(coroutine.running())
          return "done"
        end)
        local ok, inner = coroutine.resume(co)
        assert.is_true(ok)
        assert.equal(co, inner)
        return { self ~= co, { coroutine.resume(co) },
                 { coroutine.resume(self) } }
      end)
      assert.is_true(results[1])
      assert.same({ true, "done" }, results[2])
      assert.same({ false,
        "cannot resume a goroutine's coroutine: the scheduler runs it" },
        results[3])
    end)
  end)

  describe("a park where Lua cannot yield", function()
    it("inside a goroutine (a table.sort comparator) still completes", function()
      local ch, quit = lugo.chan(), lugo.chan()
      lugo.go(function()
        while lugo.select { { "send", ch, 1 }, { "recv", quit } } == 1 do end
      end)
      local sorted = lugo.run(function()
        local t = { 5, 3, 9, 1, 7 }
        table.sort(t, function(a, b) ch:recv(); return a < b end)
        return t
      end)
      quit:close()
      lugo.run()
      assert.same({ 1, 3, 5, 7, 9 }, sorted)
    end)
  end)

  describe("a user's coroutine on the main thread", function()
    it("drives the scheduler when it blocks", function()
      local ch = lugo.chan()
      lugo.go(function() lugo.sleep(0.005); ch:send(7) end)
      local gen = coroutine.wrap(function()
        local v = ch:recv()
        coroutine.yield(v + 1)
      end)
      assert.equal(8, gen())
      lugo.run()
    end)

    it("keeps the user's yields for the user", function()
      local gen = coroutine.wrap(function()
        for i = 1, 3 do
          lugo.sleep(0.001)
          coroutine.yield(i)
        end
      end)
      assert.same({ 1, 2, 3 }, { gen(), gen(), gen() })
    end)
  end)

  it("works in a process started with its standard streams closed", function()
    -- libuv must not be handed fd 0-2 (it aborts when closing one)
    local lua = jit and "luajit" or "lua5.4"
    local out = os.tmpname()
    local ok = os.execute(("%s -e 'local l = require \"lugo\"; l.sleep(0.01); "
      .. "io.open(%q, \"w\"):write(\"fine\")' <&- >&- 2>&-"):format(lua, out))
    local f = assert(io.open(out))
    local text = f:read("*a")
    f:close()
    os.remove(out)
    assert.is_truthy(ok)
    assert.equal("fine", text)
  end)
end)
