describe("time", function()
  local h = require "spec.helper"
  local lugo = h.lugo

  describe("lugo.after()", function()
    it("returns a channel of capacity 1 that receives lugo.now() once", function()
      local t0 = lugo.now()
      local c = lugo.after(0.05)
      assert.equal(1, c:cap())
      local v, ok = c:recv()
      local t1 = lugo.now()
      assert.is_true(ok)
      assert.is_number(v)
      h.between(t0 + 0.05, v, t1 + 1e-9, "the time received")
      h.between(0.05, t1 - t0, 0.15, "after(0.05)")
      -- only once
      lugo.sleep(0.06)
      assert.same({ n = 2, nil, nil }, h.pack(c:tryrecv()))
    end)

    it("keeps the value in the channel until someone receives it", function()
      local c = lugo.after(0.01)
      lugo.sleep(0.03)
      assert.equal(1, #c)
      assert.is_number((c:recv()))
    end)

    it("never fires early", function()
      local t0 = lugo.now()
      local late = {}
      for i = 1, 50 do
        local d = (i % 10) * 0.005
        lugo.go(function()
          local v = lugo.after(d):recv()
          late[i] = v - (t0 + d)
        end)
      end
      lugo.run()
      for i = 1, 50 do h.between(0, late[i], 0.1, "lateness of timer " .. i) end
    end)

    it("fires in order of the deadlines", function()
      local a, b, c = lugo.after(0.03), lugo.after(0.01), lugo.after(0.02)
      local order = {}
      for _ = 1, 3 do
        local i = lugo.select { { "recv", a }, { "recv", b }, { "recv", c } }
        order[#order + 1] = i
      end
      assert.same({ 2, 3, 1 }, order)
    end)

    it("with 0 or a negative duration fires at once", function()
      for _, d in ipairs { 0, -1, -1e9 } do
        local dt = h.elapsed(function() return lugo.after(d):recv() end)
        h.between(0, dt, 0.05, "after(" .. d .. ")")
      end
      assert.equal(0, lugo.stats().timers)
    end)

    it("counts as a pending timer until it fires", function()
      local base = lugo.stats().timers
      local c = lugo.after(0.02)
      assert.equal(base + 1, lugo.stats().timers)
      c:recv()
      assert.equal(base, lugo.stats().timers)
    end)

    it("keeps lugo.run() going until it fires", function()
      local fired = false
      lugo.go(function() lugo.after(0.02):recv(); fired = true end)
      local dt = h.elapsed(lugo.run)
      assert.is_true(fired)
      h.between(0.02, dt, 0.12, "lugo.run() with a pending timer")
    end)

    it("raises on a non-number", function()
      h.raises("number expected", lugo.after, "1s")
      h.raises("number expected", lugo.after)
    end)
  end)

  describe("lugo.timer()", function()
    it("has a channel .c that receives the time once", function()
      local t0 = lugo.now()
      local t = lugo.timer(0.03)
      assert.equal(1, t.c:cap())
      local v = t.c:recv()
      h.between(t0 + 0.03, v, lugo.now() + 1e-9, "the time received")
    end)

    it(":stop() on a pending timer returns true and nothing fires", function()
      local base = lugo.stats().timers
      local t = lugo.timer(0.02)
      assert.equal(base + 1, lugo.stats().timers)
      assert.is_true(t:stop())
      assert.equal(base, lugo.stats().timers)
      lugo.sleep(0.04)
      assert.same({ n = 2, nil, nil }, h.pack(t.c:tryrecv()))
      assert.is_false(t:stop())
    end)

    it(":stop() after the timer fired returns false; the value stays in .c", function()
      local t = lugo.timer(0.01)
      lugo.sleep(0.03)
      assert.is_false(t:stop())
      local v, ok = t.c:tryrecv()
      assert.is_number(v)
      assert.is_true(ok)
    end)

    it(":stop() wakes nobody: a goroutine waiting on .c stays parked", function()
      local t = lugo.timer(0.01)
      local got = "nothing"
      lugo.go(function()
        local i, v = lugo.select { { "recv", t.c }, { "recv", lugo.after(0.05) } }
        got = i == 1 and v or "timeout"
      end)
      lugo.yield()
      assert.is_true(t:stop())
      lugo.run()
      assert.equal("timeout", got)
    end)

    it(":reset() on a pending timer returns true and moves the deadline", function()
      local t0 = lugo.now()
      local t = lugo.timer(0.01)
      assert.is_true(t:reset(0.05))
      local v = t.c:recv()
      h.between(t0 + 0.05, v, t0 + 0.15, "the reset timer's time")
      assert.equal(0, lugo.stats().timers)
    end)

    it(":reset() can also bring the deadline forward", function()
      local t0 = lugo.now()
      local t = lugo.timer(10)
      assert.is_true(t:reset(0.02))
      t.c:recv()
      h.between(0.02, lugo.now() - t0, 0.12, "the reset timer's wait")
    end)

    it(":reset() after the timer fired returns false and arms it again", function()
      local t = lugo.timer(0.01)
      t.c:recv()
      local base = lugo.stats().timers
      local t1 = lugo.now()
      assert.is_false(t:reset(0.03))
      assert.equal(base + 1, lugo.stats().timers)
      local v = t.c:recv()
      h.between(t1 + 0.03, v, t1 + 0.13, "the re-armed timer's time")
    end)

    it(":reset() after an undrained fire keeps the old value, as Go before 1.23", function()
      local t = lugo.timer(0.01)
      lugo.sleep(0.02)
      local first_fire = lugo.now()
      assert.is_false(t:reset(0.01))
      lugo.sleep(0.03) -- the second fire finds .c full and is dropped
      assert.equal(1, #t.c)
      local v = t.c:recv()
      assert.truthy(v < first_fire, "the value kept is the first one")
      assert.same({ n = 2, nil, nil }, h.pack(t.c:tryrecv()))
      assert.equal(0, lugo.stats().timers)
    end)

    it(":reset() after :stop() returns false and arms it again", function()
      local t = lugo.timer(0.01)
      assert.is_true(t:stop())
      local t1 = lugo.now()
      assert.is_false(t:reset(0.02))
      local v = t.c:recv()
      h.between(t1 + 0.02, v, t1 + 0.12, "the re-armed timer's time")
      assert.is_false(t:stop())
    end)

    it("with 0 or a negative duration fires at once", function()
      for _, d in ipairs { 0, -5 } do
        local t = lugo.timer(d)
        local dt = h.elapsed(function() return t.c:recv() end)
        h.between(0, dt, 0.05, "timer(" .. d .. ")")
      end
      local t = lugo.timer(1)
      t:reset(-1)
      h.between(0, (h.elapsed(function() return t.c:recv() end)), 0.05, "reset(-1)")
    end)

    it("keeps 500 timers straight through random stops and resets", function()
      local t0 = lugo.now()
      local timers, due, stopped = {}, {}, {}
      for i = 1, 500 do
        due[i] = math.random() * 0.05
        timers[i] = lugo.timer(due[i])
      end
      for i = 1, 500 do
        local r = math.random()
        if r < 0.3 then
          stopped[i] = true
          assert.is_true(timers[i]:stop())
        elseif r < 0.6 then
          local d = math.random() * 0.05
          due[i] = lugo.now() - t0 + d -- taken before the reset: a lower bound
          assert.is_true(timers[i]:reset(d))
        end
      end
      lugo.sleep(0.1)
      for i = 1, 500 do
        local v, ok = timers[i].c:tryrecv()
        if stopped[i] then
          assert(ok == nil, "stopped timer " .. i .. " fired")
        else
          assert(ok, "timer " .. i .. " did not fire")
          assert(v >= t0 + due[i], "timer " .. i .. " fired early")
        end
      end
      assert.equal(0, lugo.stats().timers)
    end)

    it("raises on a non-number", function()
      h.raises("number expected", lugo.timer, {})
      local t = lugo.timer(1)
      assert.has_error(function() t:reset("later") end)
      t:stop()
    end)
  end)

  describe("lugo.ticker()", function()
    it("ticks every sec, never early", function()
      local base = lugo.stats().timers
      local t0 = lugo.now()
      local tk = lugo.ticker(0.02)
      for k = 1, 5 do
        local v = tk.c:recv()
        assert.is_number(v)
        h.between(t0 + k * 0.02, v, t0 + k * 0.02 + 0.1, "tick " .. k)
      end
      tk:stop()
      assert.equal(base, lugo.stats().timers)
    end)

    it("has a channel of capacity 1 and drops ticks for a slow reader", function()
      local t0 = lugo.now()
      local tk = lugo.ticker(0.01)
      assert.equal(1, tk.c:cap())
      lugo.sleep(0.065)
      assert.equal(1, #tk.c) -- six ticks were due, one is kept
      local first = tk.c:recv()
      h.between(t0 + 0.01, first, t0 + 0.06, "the kept tick (the first)")
      -- the ticker goes on at its period after the drop
      local next_tick = tk.c:recv()
      h.between(t0 + 0.065, next_tick, t0 + 0.065 + 0.1, "the next tick")
      tk:stop()
    end)

    it(":stop() ends the ticks", function()
      local base = lugo.stats().timers
      local tk = lugo.ticker(0.01)
      tk.c:recv()
      tk:stop()
      tk.c:tryrecv() -- a tick may have landed just before stop
      lugo.sleep(0.04)
      assert.same({ n = 2, nil, nil }, h.pack(tk.c:tryrecv()))
      assert.equal(base, lugo.stats().timers)
      tk:stop() -- twice is fine
    end)

    it("keeps a select loop going until stopped", function()
      local tk = lugo.ticker(0.005)
      local quit = lugo.chan()
      local ticks = 0
      lugo.go(function()
        while true do
          local i = lugo.select { { "recv", tk.c }, { "recv", quit } }
          if i == 2 then return end
          ticks = ticks + 1
        end
      end)
      lugo.sleep(0.05)
      quit:close()
      tk:stop()
      lugo.run()
      h.between(3, ticks, 11, "ticks in 0.05 s at 0.005 s")
    end)

    it("raises on a non-positive interval", function()
      h.raises("non-positive interval", lugo.ticker, 0)
      h.raises("non-positive interval", lugo.ticker, -1)
      h.raises("number expected", lugo.ticker, "often")
      assert.equal(0, lugo.stats().timers)
    end)
  end)
end)
