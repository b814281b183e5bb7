describe("introspection", function()
  local h = require "spec.helper"
  local lugo = h.lugo

  describe("lugo.stats()", function()
    it("has every field, as numbers", function()
      local s = lugo.stats()
      assert.is_table(s)
      for _, k in ipairs { "goroutines", "runnable", "blocked", "procs",
                           "switches", "memory", "timers", "channels" } do
        assert.is_number(s[k], "stats()." .. k)
      end
      assert.truthy(s.procs >= 1)
      -- runq is per processor: a number, or one number per processor
      if type(s.runq) == "table" then
        assert.is_number(s.runq[1])
      else
        assert.is_number(s.runq)
      end
    end)

    it("has zero counts on an idle runtime", function()
      local s = lugo.stats()
      assert.equal(0, s.goroutines)
      assert.equal(0, s.runnable)
      assert.equal(0, s.blocked)
      assert.equal(0, s.timers)
    end)

    it("counts runnable and blocked goroutines", function()
      local base = lugo.stats()
      local ch, closed = lugo.chan(), false
      finally(function()
        if not closed then ch:close() end
        lugo.run()
      end)
      for _ = 1, 3 do lugo.go(function() ch:recv() end) end
      lugo.yield()
      for _ = 1, 2 do lugo.go(function() end) end
      local s = lugo.stats()
      assert.equal(base.goroutines + 5, s.goroutines)
      assert.equal(base.blocked + 3, s.blocked)
      assert.equal(base.runnable + 2, s.runnable)
      assert.is_not_nil(s.runq, "stats().runq")
      local runq = type(s.runq) == "table" and s.runq[1] or s.runq
      assert.equal(2, runq)
      ch:close()
      closed = true
      lugo.run()
      s = lugo.stats()
      assert.equal(base.goroutines, s.goroutines)
      assert.equal(base.blocked, s.blocked)
      assert.equal(base.runnable, s.runnable)
    end)

    it("counts the goroutine that asks", function()
      local base = lugo.stats()
      local s = lugo.run(function() return lugo.stats() end)
      assert.equal(base.goroutines + 1, s.goroutines)
      assert.equal(base.blocked, s.blocked)
    end)

    it("counts sleepers as blocked and their timers", function()
      local base = lugo.stats()
      finally(function() lugo.run() end)
      for _ = 1, 4 do lugo.go(function() lugo.sleep(0.02) end) end
      lugo.yield()
      local s = lugo.stats()
      assert.equal(base.blocked + 4, s.blocked)
      assert.equal(base.timers + 4, s.timers)
      lugo.run()
      assert.equal(base.timers, lugo.stats().timers)
    end)

    it("counts context switches", function()
      local before = lugo.stats().switches
      lugo.run(function()
        for _ = 1, 100 do lugo.yield() end
      end)
      assert.truthy(lugo.stats().switches - before >= 100)
    end)

    it("counts live channels", function()
      collectgarbage("collect")
      collectgarbage("collect")
      local before = lugo.stats().channels
      local keep = {}
      for i = 1, 10 do keep[i] = lugo.chan(i) end
      assert.equal(before + 10, lugo.stats().channels)
      keep = nil
      collectgarbage("collect")
      collectgarbage("collect")
      assert.truthy(lugo.stats().channels <= before,
        "channels after collection: " .. lugo.stats().channels .. ", before: " .. before)
    end)

    it("reports the Lua heap in bytes", function()
      local s = lugo.stats()
      local heap = collectgarbage("count") * 1024
      h.between(heap / 2, s.memory, heap * 2 + 1e6, "stats().memory")
    end)
  end)

  describe("lugo.dump()", function()
    it("is a string, also on an idle runtime", function()
      assert.is_string(lugo.dump())
    end)

    it("lists every goroutine with its state and traceback", function()
      local ch, full, mu = lugo.chan(), lugo.chan(1), lugo.mutex()
      full:send(1)
      mu:lock()
      local cleaned = false
      finally(function()
        if cleaned then return end
        ch:close(); full:recv(); mu:unlock(); lugo.run()
      end)
      local function wait_here() ch:recv() end
      local function parked_receiver() wait_here() end
      for _ = 1, 3 do lugo.go(parked_receiver) end
      lugo.go(function() full:send(2) end)
      lugo.go(function() lugo.select { { "recv", ch }, { "recv", lugo.chan() } } end)
      lugo.go(function() lugo.sleep(0.01) end)
      lugo.go(function() mu:lock(); mu:unlock() end)
      lugo.yield()
      lugo.go(function() end) -- runnable

      -- one header line per goroutine, with its id and state, as Go's
      local d = lugo.dump()
      local headers = {}
      for line in d:gmatch("[^\n]+") do
        if line:match("^goroutine %d+") then headers[#headers + 1] = line end
      end
      assert.equal(8, #headers, d)
      local function with(state)
        local n = 0
        for _, line in ipairs(headers) do
          if line:find(state, 1, true) then n = n + 1 end
        end
        return n
      end
      assert.equal(3, with("chan receive"), d)
      assert.equal(1, with("chan send"), d)
      assert.equal(1, with("select"), d)
      assert.equal(1, with("sleep"), d)
      assert.equal(1, with("sync"), d)
      assert.equal(1, with("runnable"), d)
      -- where they were created and where they wait
      assert.matches("introspection_spec.lua", d, 1, true)
      assert.matches("wait_here", d, 1, true)

      cleaned = true
      ch:close()
      full:recv()
      mu:unlock()
      lugo.run()
    end)

    it("names each goroutine by its id", function()
      local ids = {}
      lugo.onerror(function(_, _, id) ids[#ids + 1] = id end)
      local gate = lugo.chan()
      for _ = 1, 3 do lugo.go(function() gate:recv(); error("x") end) end
      lugo.yield()
      local ok, d = pcall(lugo.dump)
      gate:close()
      lugo.run()
      assert(ok, d)
      assert.equal(3, #ids)
      for _, id in ipairs(ids) do
        assert.truthy(d:find("%f[%d]" .. id .. "%f[%D]"), "dump lacks goroutine id " .. id .. ":\n" .. d)
      end
    end)

    it("says how long each waiter has waited", function()
      local gate = lugo.chan()
      lugo.go(function() gate:recv() end)
      lugo.yield()  -- parked from here
      lugo.sleep(0.05)
      local d = lugo.dump()
      gate:close()
      lugo.run()
      local secs = tonumber(d:match("chan receive, ([%d.]+) s%]"))
      assert(secs, d)
      -- the park is dated by the processor's clock, which is at most a
      -- few dozen switches or one sysmon tick (2 ms) old
      assert.is_true(secs >= 0.045 and secs < 5, d)
    end)

    it("shows the goroutine that calls it as running", function()
      local d = lugo.run(function() return lugo.dump() end)
      assert.truthy(("\n" .. d):find("\ngoroutine %d+[^\n]*running"), d)
    end)
  end)

  describe("lugo.metrics()", function()
    it("gives Prometheus text with the stats' counts", function()
      local ch = lugo.chan()
      lugo.go(function() ch:recv() end)
      lugo.yield()
      local text = lugo.metrics()
      assert.matches("# TYPE lugo_goroutines gauge\nlugo_goroutines 1\n", text)
      assert.matches("\nlugo_goroutines_blocked 1\n", text)
      assert.matches("# TYPE lugo_switches_total counter\n", text)
      for line in text:gmatch("[^\n]+") do  -- every line is a comment or a sample
        assert.is_truthy(line:match("^# %u+ lugo_[%l_]+ ") or line:match("^lugo_[%l_]+ %d+$"), line)
      end
      ch:send(1)
      lugo.run()
    end)
  end)

  describe("LUGO_DEBUG=schedtrace=N", function()
    it("prints a scheduler line every N ms without keeping anything alive", function()
      local lua = jit and "luajit" or "lua5.4"
      local script = os.tmpname()
      local f = assert(io.open(script, "w"))
      f:write([[
local lugo = require "lugo"
lugo.go(function() lugo.sleep(0.25) end)
lugo.run()                         -- returns: the trace timer keeps nothing alive
print(select(2, pcall(function() lugo.chan():recv() end)))
]])
      f:close()
      local p = assert(io.popen(("LUGO_DEBUG=schedtrace=50 %s %s 2>&1"):format(lua, script)))
      local out = p:read("*a")
      p:close()
      os.remove(script)
      local n = select(2, out:gsub("SCHED %d+ms: procs=1 goroutines=%d+ runnable=%d+", ""))
      assert.is_true(n >= 3, out)
      assert.matches("all goroutines are asleep %- deadlock!", out)
    end)
  end)
end)
