-- Processors: lugo.procs, lugo.spawn, shared channels and sync objects
-- across Ps, errors, deadlock and preemption. Each case runs in a fresh
-- interpreter: the number of processors is fixed once they start.
describe("processors", function()
  local h = require "spec.helper"
  local is54 = math.type ~= nil

  --- Run `body` after `lugo = require "lugo"; lugo.procs(n)`; returns
  -- what it printed. `lugo` is a global, as on worker processors, so
  -- spawned functions reach it through _ENV, not as an upvalue.
  local function run(n, body)
    return h.subprocess(("lugo = require 'lugo'\nlugo.procs(%d)\n%s")
      :format(n, body))
  end

  describe("lugo.procs", function()
    it("defaults to the CPU count and is set before the first spawn", function()
      local out = h.subprocess([[
        local lugo = require "lugo"
        local n = lugo.procs()
        print(n >= 1, n == math.floor(n))
        print(lugo.procs(3), lugo.procs())
        lugo.spawn(function() end)
        print(pcall(lugo.procs, 2))
        print(lugo.procs(3), lugo.stats().procs, #lugo.stats().p)
      ]])
      assert.equal("true\ttrue\n3\t3\nfalse\tlugo.procs: 3 processors " ..
        "are running already; set the number before the first spawn\n" ..
        "3\t3\t3\n", out)
    end)

    it("rejects bad counts", function()
      local lugo = h.lugo
      for _, bad in ipairs({ 0, -1, 1.5, 1000 }) do
        local ok, err = pcall(lugo.procs, bad)
        assert.is_false(ok)
        assert.truthy(err:find("bad argument #1 to '[^']*' %(processors " ..
          "must be an integer in 1%.%.256%)"), err)
      end
      assert.is_false((pcall(lugo.procs, "x")))
    end)
  end)

  describe("lugo.spawn", function()
    -- The cases that run in this process stay on one processor, so no
    -- other spec here finds workers started.
    setup(function() h.lugo.procs(1) end)
    it("runs on other processors with copied arguments", function()
      local out = run(2, [[
        local out = lugo.chan(0, { shared = true })
        local t = { 1, 2.0, "three", nested = { yes = true } }
        lugo.spawn(function(out, t, n, f)
          out:send({ pid = require("lugo.core").pid(), t = t, n = n,
                     f = math.type and math.type(f) or "float" })
        end, out, t, 42, 1.0)
        local r = out:recv()
        print(r.pid < 2, r.t ~= t, r.t[1], r.t[3], r.t.nested.yes, r.n, r.f)
      ]])
      assert.equal(("true\ttrue\t1\tthree\ttrue\t42\tfloat\n"), out)
    end)

    it("takes a \"module.function\" name and keeps nil arguments", function()
      local out = run(2, [[
        local out = lugo.chan(0, { shared = true })
        lugo.spawn("spec.support.tasks.echo", out, nil, "b", nil)
        local r = out:recv()
        print(r.n, r[1], r[2], r[3])
      ]])
      assert.equal("3\tnil\tb\tnil\n", out)
    end)

    it("with one processor runs on P0, still copying", function()
      local out = run(1, [[
        local t = {}
        local ch = lugo.chan(1)
        lugo.spawn(function(t, ch) t.x = 1; ch:send(require("lugo.core").pid()) end, t, lugo.chan(1, {shared = true}))
        print(t.x, lugo.stats().procs)
      ]])
      assert.equal("nil\t1\n", out)
    end)

    it("refuses functions with upvalues, saying how to fix it", function()
      local lugo = h.lugo
      local x = 1
      local ok, err = pcall(lugo.spawn, function() return x end)
      assert.is_false(ok)
      assert.truthy(err:find("lugo.spawn: function has upvalue 'x'; a " ..
        "spawned function runs in another Lua state and cannot see it: " ..
        "pass it as an argument, or give the function as " ..
        "\"module.function\"", 1, true), err)
      ok, err = pcall(lugo.spawn, print)
      assert.truthy(err:find("a C function cannot cross processors", 1, true))
      ok, err = pcall(lugo.spawn, 42)
      assert.truthy(err:find("bad argument #1 to '[^']*' %(function " ..
        "expected"), err)
    end)

    it("names the path of an argument that cannot cross", function()
      local lugo = h.lugo
      local ok, err = pcall(lugo.spawn, "m.f", 1, { conn = io.stdout })
      assert.is_false(ok)
      assert.equal("args[2].conn: userdata cannot cross processors", err)
      ok, err = pcall(lugo.spawn, "m.f", lugo.chan())
      assert.equal("args[1]: a local channel cannot cross processors " ..
        "(make it with lugo.chan(n, {shared = true}))", err)
    end)

    it("caps one message (maxmessage)", function()
      local out = run(2, [[
        local core = require "lugo.core"
        print(core.maxmessage())
        core.maxmessage(1024)
        print(pcall(lugo.spawn, "m.f", string.rep("x", 2000)))
        local ch = lugo.chan(1, { shared = true })
        print(pcall(ch.send, ch, string.rep("x", 2000)))
      ]])
      assert.truthy(out:find("^67108864\nfalse\targs: value too large to " ..
        "cross processors %(over 1024 bytes encoded%)\nfalse\t[^\n]*" ..
        "value: value too large to cross processors %(over 1024 bytes " ..
        "encoded%)\n$"), out)
    end)

    it("an error in a spawned goroutine reaches the main thread", function()
      local out = run(2, [[
        lugo.spawn("spec.support.tasks.boom", "kaboom")
        print(pcall(lugo.sleep, 0.5))
        lugo.spawn("string.nope")
        print(pcall(lugo.sleep, 0.5))
      ]])
      assert.truthy(out:find("^false\tgoroutine 1[ onP1]*: kaboom\nstack " ..
        "traceback:"), out)
      assert.truthy(out:find("\nfalse\tlugo.spawn: no function 'nope' in " ..
        "module 'string'\n", 1, true), out)
    end)

    local it54 = is54 and it or pending
    it54("a processor out of memory fails the goroutine and keeps going",
      function()
        local out = run(2, [[
          local core = require "lugo.core"
          print(core.memlimit(), core.memlimit(64 * 1024 * 1024))
          local ch = lugo.chan(0, { shared = true })
          core.spawnon(1, function()
            local t = {}
            for i = 1, 1e9 do t[i] = { i } end
          end)
          print(pcall(lugo.sleep, 1))
          collectgarbage()
          core.spawnon(1, function(ch) ch:send(require("lugo.core").pid()) end, ch)
          print(ch:recv())
          print(pcall(core.memlimit, 1))
        ]])
        assert.equal("0\t67108864\nfalse\tgoroutine 1 on P1: not enough memory\n" ..
          "1\ttrue\nfalse\tlugo: set memlimit before the first spawn\n", out)
      end)

    it("or lugo.onerror, with the goroutine id and processor", function()
      local out = run(2, [[
        local got = lugo.chan(1)
        lugo.onerror(function(err, tb, id, pid)
          got:send(("%s|%s|%s|%s"):format(err, tb:match("^[^\n]*"), id, pid))
        end)
        lugo.spawn(function() error("oops", 0) end)
        print((got:recv()))
      ]])
      assert.truthy(out == "oops|goroutine 1 on P1: oops|1|1\n" or
        out == "oops|goroutine 1: oops|1|0\n", out)
    end)

    it("idle processors steal from a busy one", function()
      local out = run(4, [[
        local done = lugo.chan(0, { shared = true })
        lugo.spawn("spec.support.tasks.spawner", 10000, done)
        done:recv()
        local st, steals, tasks = lugo.stats(), 0, 0
        for _, p in ipairs(st.p) do
          steals, tasks = steals + p.steals, tasks + p.tasks
        end
        local mem = true
        for _, p in ipairs(st.p) do mem = mem and p.memory > 0 end
        print(#st.p, tasks, steals > 0, mem)
      ]])
      assert.equal("4\t10001\ttrue\ttrue\n", out)
    end)
  end)

  describe("shared channels", function()
    local function mpmc(n)
      return run(n, [[
        local N, P, C = 1000000, 4, 4
        local ch = lugo.chan(128, { shared = true })
        local out = lugo.chan(C, { shared = true })
        local wg = lugo.waitgroup()
        wg:add(P)
        for p = 1, P do
          lugo.spawn(function(ch, wg, p, P, N)
            for i = p, N, P do ch:send(i) end
            wg:done()
          end, ch, wg, p, P, N)
        end
        for _ = 1, C do
          lugo.spawn(function(ch, out)
            local n, sum, sq = 0, 0, 0
            for v in ch:range() do
              n, sum, sq = n + 1, sum + v, (sq + v * v) % 1000000007
            end
            out:send({ n, sum, sq })
          end, ch, out)
        end
        wg:wait()
        ch:close()
        local n, sum, sq = 0, 0, 0
        for _ = 1, C do
          local r = out:recv()
          n, sum, sq = n + r[1], sum + r[2], (sq + r[3]) % 1000000007
        end
        local want = 0
        for i = 1, N do want = (want + i * i) % 1000000007 end
        print(n, string.format("%.0f", sum), sq == want)
      ]])
    end

    it("many producers and consumers: every value once, 2 processors",
      function()
        assert.equal("1000000\t500000500000\ttrue\n", mpmc(2))
      end)

    it("many producers and consumers: every value once, 4 processors",
      function()
        assert.equal("1000000\t500000500000\ttrue\n", mpmc(4))
      end)

    it("select across processors over shared and local channels", function()
      local out = run(4, [[
        local a = lugo.chan(0, { shared = true })
        local b = lugo.chan(4, { shared = true })
        local N = 20000
        for w = 1, 3 do
          lugo.spawn(function(a, b, N)
            for i = 1, N do
              lugo.select{ { "send", a, i }, { "send", b, -i } }
            end
          end, a, b, N)
        end
        local loc = lugo.chan()
        lugo.go(function() for i = 1, 100 do loc:send(i) end end)
        local na, nb, nl, sum = 0, 0, 0, 0
        while na + nb < 3 * N or nl < 100 do
          local i, v = lugo.select{ { "recv", a }, { "recv", b }, { "recv", loc } }
          if i == 1 then na = na + 1; sum = sum + v
          elseif i == 2 then nb = nb + 1; sum = sum - v
          else nl = nl + 1 end
        end
        print(na + nb, nl, string.format("%.0f", sum), na > 0, nb > 0)
      ]])
      assert.equal("60000\t100\t600030000\ttrue\ttrue\n", out)
    end)

    it("close wakes waiters on every processor, nothing lost", function()
      local out = run(4, [[
        local ch = lugo.chan(0, { shared = true })
        local res = lugo.chan(64, { shared = true })
        local ready = lugo.waitgroup()
        ready:add(12)
        for i = 1, 6 do
          lugo.spawn(function(ch, res, ready)
            ready:done()
            local v, ok = ch:recv()
            res:send(ok and "value" or "closed")
          end, ch, res, ready)
          lugo.spawn(function(ch, res, ready)
            ready:done()
            local ok, err = pcall(ch.send, ch, "x")
            res:send(ok and "sent" or err:match("send on closed channel"))
          end, ch, res, ready)
        end
        ready:wait()
        lugo.sleep(0.05)
        ch:close()
        local seen = {}
        for _ = 1, 12 do local r = res:recv(); seen[r] = (seen[r] or 0) + 1 end
        -- every sender either handed its value to a receiver or failed
        print(seen.value or 0, seen.sent or 0, (seen.closed or 0) +
          (seen["send on closed channel"] or 0))
      ]])
      local v, s, rest = out:match("^(%d+)\t(%d+)\t(%d+)\n$")
      assert.equal(v, s, out)
      assert.equal(12, v + s + rest)
    end)

    it("values cross with tables, strings and shared objects", function()
      local out = run(2, [[
        local ch = lugo.chan(0, { shared = true })
        local back = lugo.chan(0, { shared = true })
        lugo.spawn(function(ch)
          local t = ch:recv()
          t.reply:send({ t.s:upper(), #t.list, t.self == t })
        end, ch)
        local t = { s = "hello", list = { 1, 2, 3 }, reply = back }
        t.self = t
        ch:send(t)
        local r = back:recv()
        print(r[1], r[2], r[3])
      ]])
      assert.equal("HELLO\t3\ttrue\n", out)
    end)
  end)

  describe("sync across processors", function()
    it("waitgroup, mutex, atomic and map", function()
      local out = run(4, [[
        local wg, mu, a, m = lugo.waitgroup(), lugo.mutex(), lugo.atomic(), lugo.map()
        local count = lugo.map()
        wg:add(8)
        for i = 1, 8 do
          lugo.spawn(function(wg, mu, a, m, count)
            for _ = 1, 1000 do
              a:add(1)
              m:incr("n", 1, 0)
              mu:lock()
              local v = count:get("x") or 0
              lugo.yield()
              count:set("x", v + 1)
              mu:unlock()
            end
            wg:done()
          end, wg, mu, a, m, count)
        end
        wg:wait()
        print(a:load(), m:get("n"), count:get("x"))
      ]])
      assert.equal("8000\t8000\t8000\n", out)
    end)
  end)

  describe("servers on several processors", function()
    it("lugo.http.serve{procs = n} listens on each with SO_REUSEPORT",
      function()
        local out = run(2, [[
          local srv = assert(lugo.http.serve{ port = 0, procs = 2,
            handler = "spec.support.tasks.hello" })
          local _, port = srv:addr()
          lugo.sleep(0.05)
          local seen = {}
          for _ = 1, 60 do
            local res = assert(lugo.http.request{
              url = "http://127.0.0.1:" .. port .. "/" })
            seen[res.body] = true
          end
          srv:close()
          print(seen["hello from P0"], seen["hello from P1"])
          print(pcall(lugo.http.serve, { procs = 2, handler = print }))
          print(pcall(lugo.http.serve, { procs = 3, handler = "a.b" }))
        ]])
        assert.equal("true\ttrue\nfalse\tlugo.http.serve: with opts.procs, " ..
          "opts.handler must be a \"module.function\" name (each processor " ..
          "loads it)\nfalse\tlugo.http.serve: opts.procs is 3 but there " ..
          "are 2 processors (set lugo.procs first)\n", out:gsub("false\t[^\n]-: lugo", "false\tlugo"))
      end)
  end)

  describe("lugo.dump", function()
    it("covers every processor's goroutines", function()
      local out = run(2, [[
        local ch = lugo.chan(0, { shared = true })
        require("lugo.core").spawnon(1, function(ch) ch:recv() end, ch)
        lugo.go(function() ch:recv() end)
        lugo.sleep(0.05)
        local d = lugo.dump()
        ch:close()
        print(d:find("=== processor 0\n", 1, true) ~= nil,
          d:find("\n=== processor 1\n.*goroutine %d+ %[chan receive") ~= nil)
      ]])
      assert.equal("true\ttrue\n", out)
    end)
  end)

  describe("cond across processors", function()
    it("a copied cond keeps its mutex and wakes the waiter", function()
      local out = run(2, [[
        local mu = lugo.mutex()
        local cond, m = lugo.cond(mu), lugo.map()
        mu:lock()
        lugo.spawn(function(cond, m)
          cond.L:lock()
          m:set("ready", true)
          cond:signal()
          cond.L:unlock()
        end, cond, m)
        while not m:get("ready") do cond:wait() end
        mu:unlock()
        print(m:get("ready"), getmetatable(cond).__name,
          mu:trylock())
      ]])
      assert.equal("true\tlugo.cond\ttrue\n", out)
    end)
  end)

  describe("deadlock across processors", function()
    it("fires only when nothing on any processor could wake the caller",
      function()
        local out = run(2, [[
          local ch = lugo.chan(0, { shared = true })
          lugo.spawn(function(ch) lugo.sleep(0.2) ch:send("late") end, ch)
          print(ch:recv())
          print(pcall(ch.recv, ch))
          lugo.spawn(function(ch) ch:send("again") end, ch)
          print(ch:recv())
        ]])
        assert.truthy(out:find("^late\ttrue\nfalse\t[^\n]*all goroutines " ..
          "are asleep %- deadlock!\nagain\ttrue\n$"), out)
      end)
  end)

  if is54 then
    describe("preemption (Lua 5.4)", function()
      it("a goroutine that never yields lets a timer fire within 50 ms",
        function()
          local out = run(1, [[
            local fired
            local t0 = lugo.now()
            lugo.go(function() while not fired do end end)
            lugo.go(function() lugo.sleep(0.02) fired = lugo.now() end)
            lugo.run()
            print(fired - t0 < 0.07, lugo.stats().p[1].preemptions > 0)
          ]])
          assert.equal("true\ttrue\n", out)
        end)

      it("also inside the goroutine's own coroutines, which go on after",
        function()
          local out = run(1, [[
            local fired, got
            local t0 = lugo.now()
            lugo.go(function()
              -- Bounded, so that without preemption it fails, not hangs.
              local function spin()
                while not fired and lugo.now() - t0 < 0.5 do end
              end
              local inner = coroutine.wrap(function()
                spin()
                coroutine.yield("inner")
              end)
              local gen = coroutine.wrap(function()
                coroutine.yield("first")
                spin()
                coroutine.yield(inner())
                return "last"
              end)
              got = { gen(), gen(), gen() }
            end)
            lugo.go(function() lugo.sleep(0.02) fired = lugo.now() end)
            lugo.run()
            print(fired - t0 < 0.07, table.concat(got, " "),
              lugo.stats().p[1].preemptions > 0)
          ]])
          assert.equal("true\tfirst inner last\ttrue\n", out)
        end)

      it("also on a worker processor", function()
        local out = run(2, [[
          local done = lugo.chan(0, { shared = true })
          lugo.spawn(function(done)
            local fired
            local t0 = lugo.now()
            lugo.go(function() while not fired do end end)
            lugo.go(function() lugo.sleep(0.02) fired = lugo.now() end)
            while not fired do lugo.sleep(0.001) end
            done:send(fired - t0)
          end, done)
          print(done:recv() < 0.07)
        ]])
        assert.equal("true\n", out)
      end)
    end)
  end
end)
