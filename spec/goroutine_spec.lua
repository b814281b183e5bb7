describe("goroutines", function()
  local h = require "spec.helper"
  local lugo = h.lugo

  describe("lugo.go()", function()
    it("returns nothing", function()
      local ran = false
      assert.equal(0, select("#", lugo.go(function() ran = true end)))
      lugo.run()
      assert.is_true(ran)
    end)

    it("passes every argument, nils included", function()
      local got
      lugo.go(function(...) got = { n = select("#", ...), ... } end, 1, nil, "x", nil)
      lugo.run()
      assert.same({ n = 4, 1, nil, "x", nil }, got)
    end)

    it("does not run the goroutine before the caller blocks or yields", function()
      local ran = false
      lugo.go(function() ran = true end)
      assert.is_false(ran)
      lugo.run()
      assert.is_true(ran)
    end)

    it("runs closures that share their upvalues", function()
      local total = 0
      for i = 1, 100 do
        lugo.go(function() total = total + i end)
      end
      lugo.run()
      assert.equal(5050, total)
    end)

    it("starts goroutines from inside goroutines", function()
      local depth = 0
      local function spawn(n)
        depth = math.max(depth, n)
        if n < 50 then lugo.go(spawn, n + 1) end
      end
      lugo.go(spawn, 1)
      lugo.run()
      assert.equal(50, depth)
    end)

    it("runs 10,000 goroutines", function()
      local done = 0
      for _ = 1, 10000 do
        lugo.go(function() lugo.yield(); done = done + 1 end)
      end
      lugo.run()
      assert.equal(10000, done)
    end)

    it("raises on a non-function", function()
      h.raises("function expected", lugo.go, 42)
      h.raises("function expected", lugo.go)
      assert.equal(0, lugo.stats().goroutines)
    end)
  end)

  describe("lugo.run()", function()
    it("returns every result of fn, nils included", function()
      local r = h.pack(lugo.run(function(a) return a, nil, 3, nil end, "a"))
      assert.same({ n = 4, "a", nil, 3, nil }, r)
      local a, b, c = lugo.run(function(x, y) return x + y, x * y end, 3, 4)
      assert.equal(7, a)
      assert.equal(12, b)
      assert.is_nil(c)
    end)

    it("returns as soon as fn returns, leaving other goroutines be", function()
      local finished = false
      local t = lugo.run(function()
        lugo.go(function() lugo.sleep(0.05); finished = true end)
        return lugo.now()
      end)
      assert.is_number(t)
      assert.is_false(finished)
      assert.equal(1, lugo.stats().goroutines)
      lugo.run()
      assert.is_true(finished)
    end)

    it("without fn drives until no goroutine or timer is left", function()
      local log = {}
      for i = 1, 3 do
        lugo.go(function()
          lugo.sleep(0.01 * i)
          log[#log + 1] = i
        end)
      end
      lugo.run()
      assert.same({ 1, 2, 3 }, log)
      assert.equal(0, lugo.stats().goroutines)
      assert.equal(0, lugo.stats().timers)
    end)

    it("without fn and with nothing to do returns at once", function()
      local dt = h.elapsed(lugo.run)
      h.between(0, dt, 0.05, "lugo.run() on an idle runtime")
    end)

    it("inside a goroutine parks until fn returns", function()
      local order = {}
      local a, b = lugo.run(function()
        lugo.go(function() order[#order + 1] = "other" end)
        local x, y = lugo.run(function()
          lugo.sleep(0.01)
          order[#order + 1] = "inner"
          return "x", "y"
        end)
        order[#order + 1] = "outer"
        return x, y
      end)
      assert.equal("x", a)
      assert.equal("y", b)
      assert.same({ "other", "inner", "outer" }, order)
      lugo.run()
    end)

    it("raises the deadlock error when goroutines are parked forever", function()
      local ch = lugo.chan()
      local got
      lugo.go(function() got = ch:recv() end)
      assert.has_error(function() lugo.run() end, h.DEADLOCK)
      assert.equal(1, lugo.stats().goroutines)
      -- the parked goroutine is still there, nothing was lost
      ch:send("late")
      lugo.run()
      assert.equal("late", got)
    end)

    it("raises the deadlock error when fn parks forever", function()
      local ch = lugo.chan()
      assert.has_error(function() lugo.run(function() return ch:recv() end) end, h.DEADLOCK)
      ch:close()
      lugo.run()
    end)

    it("raises on a non-function", function()
      h.raises("function expected", lugo.run, "nope")
    end)
  end)

  describe("lugo.yield()", function()
    it("returns at once when nothing else is runnable", function()
      local dt = h.elapsed(lugo.yield)
      h.between(0, dt, 0.05, "lugo.yield() alone")
      lugo.run(function() lugo.yield() end)
    end)

    it("on the main thread runs every runnable goroutine once", function()
      local log = {}
      for _, name in ipairs { "a", "b", "c" } do
        lugo.go(function()
          log[#log + 1] = name .. "1"
          lugo.yield()
          log[#log + 1] = name .. "2"
        end)
      end
      lugo.yield()
      table.sort(log)
      assert.same({ "a1", "b1", "c1" }, log)
      lugo.run()
      assert.equal(6, #log)
    end)

    it("lets goroutines take turns", function()
      local log = {}
      local function worker(name)
        for i = 1, 3 do
          log[#log + 1] = name .. i
          lugo.yield()
        end
      end
      lugo.go(worker, "a")
      lugo.go(worker, "b")
      lugo.run()
      -- whichever starts first, neither runs a round ahead of the other
      assert.equal(6, #log)
      for round = 1, 3 do
        local pair = { log[2 * round - 1], log[2 * round] }
        table.sort(pair)
        assert.same({ "a" .. round, "b" .. round }, pair)
      end
    end)

    it("returns nothing", function()
      assert.equal(0, select("#", lugo.yield()))
    end)
  end)

  describe("lugo.sleep()", function()
    it("parks the caller for at least sec", function()
      local dt = h.elapsed(lugo.sleep, 0.05)
      h.between(0.05, dt, 0.15, "sleep(0.05) on the main thread")
      dt = lugo.run(function() return h.elapsed(lugo.sleep, 0.05) end)
      h.between(0.05, dt, 0.15, "sleep(0.05) in a goroutine")
    end)

    it("parks only the caller", function()
      local t0 = lugo.now()
      local ends = {}
      for i = 1, 20 do
        lugo.go(function() lugo.sleep(0.05); ends[i] = lugo.now() - t0 end)
      end
      lugo.run()
      for i = 1, 20 do h.between(0.05, ends[i], 0.15, "sleeper " .. i) end
    end)

    it("wakes 5,000 sleepers, none early", function()
      local t0, woke, early = lugo.now(), 0, 0
      for _ = 1, 5000 do
        local d = math.random() * 0.05
        lugo.go(function()
          lugo.sleep(d)
          if lugo.now() - t0 < d then early = early + 1 end
          woke = woke + 1
        end)
      end
      lugo.run()
      assert.equal(5000, woke)
      assert.equal(0, early)
      h.between(0.05, lugo.now() - t0, 0.5, "5,000 sleeps of up to 0.05 s")
    end)

    it("wakes sleepers in order of their deadlines", function()
      local log = {}
      for _, d in ipairs { 0.03, 0.01, 0.04, 0.02 } do
        lugo.go(function() lugo.sleep(d); log[#log + 1] = d end)
      end
      lugo.run()
      assert.same({ 0.01, 0.02, 0.03, 0.04 }, log)
    end)

    it("with 0 or a negative duration returns at once", function()
      for _, d in ipairs { 0, -1, -1e9 } do
        local dt = h.elapsed(lugo.sleep, d)
        h.between(0, dt, 0.05, "sleep(" .. d .. ")")
        dt = lugo.run(function() return h.elapsed(lugo.sleep, d) end)
        h.between(0, dt, 0.05, "sleep(" .. d .. ") in a goroutine")
      end
      assert.equal(0, lugo.stats().timers)
    end)

    it("raises on a non-number", function()
      h.raises("number expected", lugo.sleep, "soon")
      h.raises("number expected", lugo.sleep)
    end)
  end)

  describe("lugo.now()", function()
    it("is a number in seconds that never goes backwards", function()
      local last = lugo.now()
      assert.is_number(last)
      for _ = 1, 10000 do
        local t = lugo.now()
        assert(t >= last, "lugo.now() went backwards")
        last = t
      end
    end)

    it("has sub-millisecond resolution", function()
      local t0 = lugo.now()
      local t1 = t0
      while t1 == t0 do t1 = lugo.now() end
      h.between(0, t1 - t0, 0.001, "clock step")
    end)

    it("agrees with sleep", function()
      local t0 = lugo.now()
      lugo.sleep(0.02)
      h.between(0.02, lugo.now() - t0, 0.12, "now() across sleep(0.02)")
    end)
  end)

  describe("an escaping error", function()
    it("is raised by lugo.run as `goroutine N: <error>` with a traceback", function()
      local function explode() error("boom") end
      local msg = h.errmsg(lugo.run, function() explode() end)
      assert.matches("^goroutine %d+: ", msg)
      assert.matches("boom", msg, 1, true)
      local tb = msg:find("stack traceback:", 1, true)
      assert.truthy(tb, "no traceback in: " .. msg)
      assert.truthy(msg:find("explode", tb, true), "traceback lacks the failing function: " .. msg)
      assert.truthy(msg:find("goroutine_spec.lua", tb, true), "traceback lacks the spec file: " .. msg)
    end)

    it("of a goroutine started with lugo.go reaches lugo.run()", function()
      lugo.go(function() error("from a child") end)
      local msg = h.errmsg(lugo.run)
      assert.matches("^goroutine %d+: .*from a child", msg)
      assert.matches("stack traceback:", msg, 1, true)
    end)

    it("reaches whichever blocking call the main thread is in", function()
      local ch = lugo.chan()
      lugo.go(function() error("while you wait") end)
      local msg = h.errmsg(ch.recv, ch)
      assert.matches("^goroutine %d+: .*while you wait", msg)
      lugo.run()
    end)

    it("uses tostring on error values that are not strings", function()
      local obj = setmetatable({}, { __tostring = function() return "custom error" end })
      local msg = h.errmsg(lugo.run, function() error(obj) end)
      assert.matches("^goroutine %d+: custom error", msg)
      msg = h.errmsg(lugo.run, function() error(42) end)
      assert.matches("^goroutine %d+: .*42", msg)
    end)

    it("names different goroutines by different ids", function()
      local ids = {}
      for _ = 1, 3 do
        local msg = h.errmsg(lugo.run, function() error("x") end)
        ids[#ids + 1] = msg:match("^goroutine (%d+):")
      end
      assert.are_not.equal(ids[1], ids[2])
      assert.are_not.equal(ids[2], ids[3])
    end)

    it("leaves other goroutines as they were", function()
      local ch = lugo.chan()
      local got, count = nil, 0
      lugo.go(function() got = ch:recv() end)
      for _ = 1, 3 do lugo.go(function() lugo.yield(); count = count + 1 end) end
      lugo.go(function() error("only me") end)
      h.raises("only me", lugo.run)
      -- the rest carries on when driven again
      ch:send("still here")
      lugo.run()
      assert.equal("still here", got)
      assert.equal(3, count)
    end)

    it("is contained by pcall inside the goroutine, across parks", function()
      local ok, err = lugo.run(function()
        return pcall(function()
          lugo.sleep(0.001)
          local ch = lugo.chan(1)
          ch:send(1)
          lugo.yield()
          error("caught", 0)
        end)
      end)
      assert.is_false(ok)
      assert.equal("caught", err)
    end)

    it("of a blocked send whose channel closes can be caught by pcall", function()
      local ch = lugo.chan()
      local ok, err
      lugo.go(function() ok, err = pcall(ch.send, ch, 1) end)
      lugo.yield()
      ch:close()
      lugo.run()
      assert.is_false(ok)
      assert.matches("send on closed channel", err, 1, true)
    end)
  end)

  describe("lugo.onerror()", function()
    it("receives err, traceback and id, and the runtime goes on", function()
      local seen = {}
      lugo.onerror(function(err, traceback, id)
        seen[#seen + 1] = { err = err, traceback = traceback, id = id }
      end)
      local after = false
      lugo.go(function() error("handled") end)
      lugo.go(function() lugo.yield(); after = true end)
      lugo.run()
      assert.is_true(after)
      assert.equal(1, #seen)
      assert.matches("handled", tostring(seen[1].err), 1, true)
      assert.is_string(seen[1].traceback)
      assert.matches("stack traceback:", seen[1].traceback, 1, true)
      assert.is_number(seen[1].id)
    end)

    it("is called for lugo.run's own fn, which then returns normally", function()
      local n = 0
      lugo.onerror(function() n = n + 1 end)
      assert.has_no.errors(function() lugo.run(function() error("x") end) end)
      assert.equal(1, n)
    end)

    it("gives each goroutine its own id", function()
      local ids = {}
      lugo.onerror(function(_, _, id) ids[#ids + 1] = id end)
      for i = 1, 5 do lugo.go(function() error("e" .. i) end) end
      lugo.run()
      assert.equal(5, #ids)
      local distinct = {}
      for _, id in ipairs(ids) do distinct[id] = true end
      local n = 0
      for _ in pairs(distinct) do n = n + 1 end
      assert.equal(5, n)
    end)

    it("raises on a handler that is not a function", function()
      h.raises("function expected", lugo.onerror, 42)
    end)

    it("with nil restores raising", function()
      lugo.onerror(function() end)
      lugo.onerror(nil)
      h.raises("raised again", lugo.run, function() error("raised again") end)
    end)
  end)
end)
