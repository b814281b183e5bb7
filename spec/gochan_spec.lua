-- Go's channel test suite (golang/go test/chan, test/closedchan.go,
-- test/chancap.go, src/runtime/chan_test.go) retold as specs, with the
-- iteration counts lowered to what a single processor runs in a moment.
describe("Go's test/chan", function()
  local h = require "spec.helper"
  local lugo = h.lugo

  local function closed_chan(cap)
    local ch = lugo.chan(cap)
    ch:close()
    return ch
  end

  describe("fifo.go", function()
    it("keeps buffered values in order", function()
      local ch = lugo.chan(10)
      for i = 0, 9 do ch:send(i) end
      for i = 0, 9 do assert.equal(i, (ch:recv())) end
    end)

    it("serves a daisy chain of receivers in turn", function()
      local ch = lugo.chan()
      local n = 10
      local first = lugo.chan()
      local in_ = first
      for i = 0, n - 1 do
        local out = lugo.chan()
        local my_in = in_
        lugo.go(function()
          my_in:recv()
          local v = ch:recv()
          assert(v == i, "bad receive: want " .. i .. ", got " .. tostring(v))
          out:send(true)
        end)
        in_ = out
      end
      local last = in_
      lugo.run(function()
        lugo.go(function() first:send(true) end)
        for i = 0, n - 1 do ch:send(i) end
        last:recv()
      end)
      lugo.run()
    end)
  end)

  describe("goroutines.go", function()
    it("passes a value down a daisy chain of 10,000 goroutines", function()
      local n = 10000
      local leftmost = lugo.chan()
      local right, left = leftmost, leftmost
      for _ = 1, n do
        right = lugo.chan()
        local l, r = left, right
        lugo.go(function() l:send(r:recv() + 1) end)
        left = right
      end
      lugo.go(function() right:send(1) end)
      assert.equal(n + 1, (leftmost:recv()))
      lugo.run()
    end)
  end)

  describe("chancap.go", function()
    it("reports len and cap", function()
      local c = lugo.chan(10)
      for i = 1, 3 do c:send(i) end
      assert.equal(3, #c)
      assert.equal(10, c:cap())
      local u = lugo.chan()
      assert.equal(0, #u)
      assert.equal(0, u:cap())
      assert.has_error(function() lugo.chan(-1) end, "makechan: size out of range")
      assert.has_error(function() lugo.chan(2 ^ 53) end, "makechan: size out of range")
    end)
  end)

  describe("closedchan.go", function()
    -- Every way of receiving, direct and through select wrappers.
    local receivers = {
      { "recv", function(c) return c:recv() end },
      { "tryrecv", function(c) return c:tryrecv() end },
      { "select", function(c) local _, v, ok = lugo.select { { "recv", c } }; return v, ok end },
      { "select with default", function(c)
        local i, v, ok = lugo.select { { "recv", c }, default = true }
        if i == nil then return nil, nil end
        return v, ok
      end },
      { "select with a dummy case", function(c)
        local _, v, ok = lugo.select { { "recv", c }, { "recv", lugo.chan() } }
        return v, ok
      end },
    }

    for _, r in ipairs(receivers) do
      local name, recv = r[1], r[2]
      it("delivers the last buffered value, then nil, false (" .. name .. ")", function()
        local c = lugo.chan(1)
        c:send(7)
        c:close()
        assert.same({ 7, true }, { recv(c) })
        for _ = 1, 10 do assert.same({ n = 2, nil, false }, h.pack(recv(c))) end
      end)

      it("gives nil, false on a closed unbuffered channel (" .. name .. ")", function()
        local c = closed_chan()
        for _ = 1, 10 do assert.same({ n = 2, nil, false }, h.pack(recv(c))) end
      end)
    end

    local senders = {
      { "send", function(c, v) c:send(v) end },
      { "trysend", function(c, v) c:trysend(v) end },
      { "select", function(c, v) lugo.select { { "send", c, v } } end },
      { "select with default", function(c, v) lugo.select { { "send", c, v }, default = true } end },
    }

    for _, snd in ipairs(senders) do
      local name, send = snd[1], snd[2]
      it("raises on send and discards the value (" .. name .. ")", function()
        for _, cap in ipairs { 0, 1 } do
          local c = closed_chan(cap)
          assert.has_error(function() send(c, 1) end, "send on closed channel")
          assert.equal(0, #c)
          assert.same({ n = 2, nil, false }, h.pack(c:tryrecv()))
        end
      end)
    end

    it("raises on a second close", function()
      assert.has_error(function() closed_chan():close() end, "close of closed channel")
      assert.has_error(function() closed_chan(5):close() end, "close of closed channel")
    end)
  end)

  describe("nonblock.go", function()
    local values = { 123, 123456, true, "hello", 2.5 }

    it("non-blocking recv on an empty channel takes default", function()
      for _, cap in ipairs { 0, 1 } do
        local c = lugo.chan(cap)
        assert.is_nil(lugo.select { { "recv", c }, default = true })
        assert.same({ n = 2, nil, nil }, h.pack(c:tryrecv()))
      end
    end)

    it("non-blocking send reaches a receiver that parks later", function()
      for _, cap in ipairs { 0, 1 } do
        for _, v in ipairs(values) do
          local c, sync = lugo.chan(cap), lugo.chan()
          lugo.go(function()
            local got = c:recv()
            assert(got == v, "receiver got " .. tostring(got))
            sync:send(true)
          end)
          local tries = 0
          while not c:trysend(v) do
            tries = tries + 1
            assert(tries < 10000, "blocked sender, buffer " .. cap)
            lugo.sleep(0.00001)
            lugo.yield()
          end
          sync:recv()
          lugo.run()
        end
      end
    end)

    it("non-blocking recv reaches a sender that parks later", function()
      for _, cap in ipairs { 0, 1 } do
        for _, v in ipairs(values) do
          local c, sync = lugo.chan(cap), lugo.chan()
          lugo.go(function()
            c:send(v)
            sync:send(true)
          end)
          local tries = 0
          while true do
            local i, got = lugo.select { { "recv", c }, default = true }
            if i then
              assert.equal(v, got)
              break
            end
            tries = tries + 1
            assert(tries < 10000, "blocked receiver, buffer " .. cap)
            lugo.yield()
          end
          sync:recv()
          lugo.run()
        end
      end
    end)
  end)

  describe("select.go", function()
    it("skips nil channels, evaluates values on every entry and takes default", function()
      local counter, shift = 0, 0
      local function value()
        counter = counter + 1
        return 2 ^ shift
      end
      local function send(a, b)
        local i = 0
        while true do
          local r = lugo.select {
            { "send", a, value() },
            { "send", b, value() },
            default = true,
          }
          if r == 1 then a = nil; i = i + 1
          elseif r == 2 then b = nil; i = i + 1
          else break end
          shift = shift + 1
        end
        return i
      end
      local a, b = lugo.chan(1), lugo.chan(1)
      assert.equal(2, send(a, b))
      local sum = a:recv() + b:recv()
      assert.truthy(sum == 1 + 2, "bad values: " .. sum)
      assert.equal(1, send(a, nil))
      assert.equal(10, counter)
      a:recv()
    end)
  end)

  describe("select3.go", function()
    -- On the main thread a call that can never complete raises the
    -- deadlock error instead of hanging: that is how "always blocks" is told.
    local function blocks(fn)
      local ok, err = pcall(fn)
      if ok then return false end
      assert.matches(h.DEADLOCK, tostring(err), 1, true)
      return true
    end

    it("tells what blocks and what does not", function()
      local closed = closed_chan()
      local never = {
        ["send to a buffered channel with room"] = function() lugo.chan(1):send(1) end,
        ["recv from a closed channel"] = function() closed:recv() end,
        ["select on nil channels with default"] = function()
          lugo.select { { "recv", nil }, { "send", nil, 1 }, default = true }
        end,
        ["select{default}"] = function() lugo.select { default = true } end,
        ["select send with room"] = function() lugo.select { { "send", lugo.chan(1), 1 } } end,
        ["select recv of a closed channel"] = function() lugo.select { { "recv", closed } } end,
        ["select recv of a ready channel"] = function()
          local c = lugo.chan(1)
          c:send(1)
          lugo.select { { "recv", c } }
        end,
      }
      local always = {
        ["recv from an empty channel"] = function() lugo.chan():recv() end,
        ["send to an unbuffered channel"] = function() lugo.chan():send(1) end,
        ["select{}"] = function() lugo.select {} end,
        ["select on a nil recv"] = function() lugo.select { { "recv", nil } } end,
        ["select on a nil send"] = function() lugo.select { { "send", nil, 1 } } end,
        ["select on nil send and recv"] = function()
          lugo.select { { "recv", nil }, { "send", nil, 1 } }
        end,
        ["select on a non-ready channel"] = function() lugo.select { { "recv", lugo.chan() } } end,
        ["select send and recv on one unbuffered channel"] = function()
          local c = lugo.chan()
          lugo.select { { "send", c, 1 }, { "recv", c } }
        end,
      }
      for what, fn in pairs(never) do
        assert.is_false(blocks(fn), what .. " blocked")
      end
      for what, fn in pairs(always) do
        assert.is_true(blocks(fn), what .. " did not block")
      end
    end)

    it("recv from a closed channel gives nil, false every time", function()
      local c = closed_chan()
      for _ = 1, 10 do
        assert.same({ n = 2, nil, false }, h.pack(c:recv()))
        assert.same({ n = 3, 1, nil, false }, h.pack(lugo.select { { "recv", c } }))
      end
    end)

    it("send to a closed channel raises, directly and in select", function()
      local c = closed_chan()
      assert.has_error(function() c:send(1) end, "send on closed channel")
      assert.has_error(function() lugo.select { { "send", c, 1 } } end, "send on closed channel")
    end)
  end)

  describe("select4.go", function()
    it("only the chosen case's handler runs and gets the value", function()
      local c, c1 = lugo.chan(1), lugo.chan()
      c:send(42)
      local handlers = {
        function() error("BUG: called f") end,
        function(v) return v end,
      }
      local i, v = lugo.select { { "recv", c1 }, { "recv", c } }
      assert.equal(42, handlers[i](v))
    end)
  end)

  describe("select6.go", function()
    it("a losing select leaves the other waiters intact", function()
      local c1, c2, c3 = lugo.chan(), lugo.chan(), lugo.chan()
      lugo.go(function() c1:recv() end)
      lugo.go(function()
        local i = lugo.select { { "recv", c1 }, { "recv", c2 } }
        assert(i == 2, "the select took c1")
        c3:send(true)
        c1:recv()
      end)
      lugo.go(function() c2:send(true) end)
      c3:recv()
      c1:send(true)
      c1:send(true)
      lugo.run()
    end)
  end)

  describe("select7.go", function()
    local recvs = {
      { "plain", function(c) c:recv() end },
      { "1-case select", function(c) lugo.select { { "recv", c } } end },
      { "2-case select", function(c) lugo.select { { "recv", c }, { "recv", lugo.chan() } } end },
    }
    local sends = {
      { "plain", function(c) c:send(1) end },
      { "1-case select", function(c) lugo.select { { "send", c, 1 } } end },
      { "2-case select", function(c) lugo.select { { "send", c, 1 }, { "recv", lugo.chan() } } end },
    }
    for _, r in ipairs(recvs) do
      local rname, recv = r[1], r[2]
      for _, snd in ipairs(sends) do
        local sname, send = snd[1], snd[2]
        it("hands a discarded value from a " .. sname .. " send to a " .. rname .. " recv", function()
          local c = lugo.chan()
          local done = false
          lugo.go(function() recv(c); done = true end)
          lugo.yield()
          send(c)
          lugo.run()
          assert.is_true(done)
        end)
      end
    end
  end)

  describe("doubleselect.go", function()
    it("a 4-way select send completes exactly one case", function()
      local n = 10000
      local chans = {}
      for k = 1, 4 do chans[k] = lugo.chan() end
      local cmux, done = lugo.chan(), lugo.chan()
      lugo.go(function()
        for i = 1, n do
          lugo.select {
            { "send", chans[1], i }, { "send", chans[2], i },
            { "send", chans[3], i }, { "send", chans[4], i },
          }
        end
        for k = 1, 4 do chans[k]:close() end
      end)
      for k = 1, 4 do
        lugo.go(function()
          for v in chans[k]:range() do cmux:send(v) end
          done:send(true)
        end)
      end
      lugo.go(function()
        for _ = 1, 4 do done:recv() end
        cmux:close()
      end)
      local seen, count = {}, 0
      for v in cmux:range() do
        assert(not seen[v], "got duplicate value: " .. v)
        seen[v] = true
        count = count + 1
      end
      assert.equal(n, count)
      lugo.run()
    end)
  end)

  describe("sieve1.go", function()
    it("finds the first 100 primes with a chain of filters", function()
      local stop = lugo.chan()
      local function send(ch, v) return lugo.select { { "send", ch, v }, { "recv", stop } } == 1 end
      local function recv(ch)
        local i, v = lugo.select { { "recv", ch }, { "recv", stop } }
        if i == 1 then return v end
      end
      local function generate(ch)
        local i = 2
        while send(ch, i) do i = i + 1 end
      end
      local function filter(inp, out, prime)
        while true do
          local v = recv(inp)
          if v == nil then return end
          if v % prime ~= 0 and not send(out, v) then return end
        end
      end
      local primes = lugo.run(function()
        local ch = lugo.chan()
        lugo.go(generate, ch)
        local found = {}
        for k = 1, 100 do
          local prime = ch:recv()
          found[k] = prime
          local ch1 = lugo.chan()
          lugo.go(filter, ch, ch1, prime)
          ch = ch1
        end
        return found
      end)
      stop:close()
      lugo.run()
      assert.equal(100, #primes)
      assert.same({ 2, 3, 5, 7, 11, 13, 17, 19, 23, 29 }, { h.unpack(primes, 1, 10) })
      assert.equal(97, primes[25])
      assert.equal(541, primes[100])
    end)
  end)

  describe("sieve2.go", function()
    it("finds the first 25 primes with buffered channels and a nil-disabled send", function()
      local stop = lugo.chan()
      local function send(ch, v) return lugo.select { { "send", ch, v }, { "recv", stop } } == 1 end
      local function recv(ch)
        local i, v = lugo.select { { "recv", ch }, { "recv", stop } }
        if i == 1 then return v end
      end
      -- odd numbers from `n` on
      local function odds(n)
        local out = lugo.chan(50)
        lugo.go(function()
          while send(out, n) do n = n + 2 end
        end)
        return out
      end
      -- odd multiples of p from p*p on
      local function multiples(p)
        local out = lugo.chan(10)
        lugo.go(function()
          local n = p * p
          while send(out, n) do n = n + 2 * p end
        end)
        return out
      end
      -- an unbounded buffer in front of `out`: its send case is disabled
      -- with a nil channel (and so a nil value) while the buffer is empty
      local function sendproxy(out)
        local inp = lugo.chan(10)
        lugo.go(function()
          local buf = {}
          while true do
            local outc = #buf > 0 and out or nil
            local i, v = lugo.select {
              { "recv", inp }, { "send", outc, buf[1] }, { "recv", stop },
            }
            if i == 1 then buf[#buf + 1] = v
            elseif i == 2 then table.remove(buf, 1)
            else return end
          end
        end)
        return inp
      end
      -- the odd composites in increasing order: a merge of the multiples of
      -- every odd prime received on `primes`; a prime q is needed only once
      -- q*q may be the next composite, and q > last gives q*q >= (last+2)^2
      local function composites(primes)
        local out = lugo.chan(50)
        lugo.go(function()
          local heads = {} -- { next multiple, channel of the rest }, sorted
          local function push(v, ch)
            local k = #heads + 1
            while k > 1 and heads[k - 1][1] > v do heads[k] = heads[k - 1]; k = k - 1 end
            heads[k] = { v, ch }
          end
          local function add_prime(p)
            if p == nil then return false end
            local m = multiples(p)
            local v = recv(m)
            if v == nil then return false end
            push(v, m)
            return true
          end
          local last = recv(primes)
          if not add_prime(last) then return end
          while true do
            local v = heads[1][1]
            if v >= (last + 2) * (last + 2) then
              last = recv(primes)
              if not add_prime(last) then return end
            else
              if not send(out, v) then return end
              while heads[1][1] == v do
                local top = table.remove(heads, 1)
                local nv = recv(top[2])
                if nv == nil then return end
                push(nv, top[2])
              end
            end
          end
        end)
        return out
      end
      local function sieve()
        local out = lugo.chan(10)
        lugo.go(function()
          local feedback = lugo.chan(10)
          local primes = sendproxy(feedback)
          if not (send(out, 2) and send(primes, 3) and send(out, 3)) then return end
          local comp, candidates = composites(feedback), odds(5)
          local c = recv(comp)
          while c do
            local n = recv(candidates)
            if n == nil then return end
            while c and c < n do c = recv(comp) end
            if c and n ~= c and not (send(out, n) and send(primes, n)) then return end
          end
        end)
        return out
      end
      local want = { 2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59,
                     61, 67, 71, 73, 79, 83, 89, 97 }
      local got = lugo.run(function()
        local primes, got = sieve(), {}
        for k = 1, #want do got[k] = primes:recv() end
        return got
      end)
      stop:close()
      lugo.run()
      assert.same(want, got)
    end)
  end)

  describe("powser1.go", function()
    -- Exact rationals { n, d } with d > 0, in lowest terms.
    local function gcd(a, b)
      a, b = math.abs(a), math.abs(b)
      while b ~= 0 do a, b = b, a % b end
      return a
    end
    local function rat(n, d)
      d = d or 1
      if d < 0 then n, d = -n, -d end
      local g = gcd(n, d)
      if g > 1 then n, d = n / g, d / g end
      return { n, d }
    end
    local function add(a, b) return rat(a[1] * b[2] + b[1] * a[2], a[2] * b[2]) end
    local function mul(a, b) return rat(a[1] * b[1], a[2] * b[2]) end
    local function show(r) return r[2] == 1 and string.format("%d", r[1])
      or string.format("%d/%d", r[1], r[2]) end

    -- A power series is a demand channel pair, as in McIlroy's paper: a
    -- request on `req` makes the series send its next term on `dat`. All
    -- goroutines of one spec also watch `stop`, so they can be ended.
    local stop
    local function send(ch, v) return lugo.select { { "send", ch, v }, { "recv", stop } } == 1 end
    local function recv(ch)
      local i, v = lugo.select { { "recv", ch }, { "recv", stop } }
      if i == 1 then return v end
    end
    local function get(s)
      if not send(s.req, true) then return nil end
      return recv(s.dat)
    end
    -- A series whose k-th term (from 0) is term(k); term may call get().
    local function series(term)
      local s = { req = lugo.chan(), dat = lugo.chan() }
      lugo.go(function()
        local k = 0
        while recv(s.req) do
          local t = term(k)
          if t == nil or not send(s.dat, t) then return end
          k = k + 1
        end
      end)
      return s
    end
    local function first(s, n)
      local out = {}
      for k = 1, n do out[k] = show(get(s)) end
      return out
    end

    local function ones() return series(function() return rat(1) end) end
    local function twos() return series(function() return rat(2) end) end
    local function addps(u, v)
      return series(function()
        local a, b = get(u), get(v)
        return a and b and add(a, b)
      end)
    end
    local function cmul(c, u)
      return series(function() local a = get(u); return a and mul(c, a) end)
    end
    -- derivative: drop the constant term, multiply term k by k
    local function diff(u)
      local started = false
      return series(function(k)
        if not started then
          started = true
          if get(u) == nil then return nil end
        end
        local a = get(u)
        return a and mul(rat(k + 1), a)
      end)
    end
    -- integral with constant term c
    local function integ(c, u)
      return series(function(k)
        if k == 0 then return c end
        local a = get(u)
        return a and mul(rat(1, k), a)
      end)
    end
    -- two series giving the terms of u, each term fetched once; a mutex
    -- keeps the two consumers from fetching the same term twice
    -- two series giving the terms of u, each term fetched once: a side
    -- with queued terms takes from its queue; a side that must fetch holds
    -- the mutex, so the two never fetch the same term twice
    local function split(u)
      local mu = lugo.mutex()
      local queues = { {}, {} }
      local function side(me, other)
        return series(function()
          if #queues[me] == 0 then
            mu:lock()
            if #queues[me] == 0 then
              local t = get(u)
              if t then queues[other][#queues[other] + 1] = t end
              mu:unlock()
              return t
            end
            mu:unlock()
          end
          return table.remove(queues[me], 1)
        end)
      end
      return side(1, 2), side(2, 1)
    end
    -- a series defined by feedback: u = f(u)
    local function fix(f)
      local fwd = { req = lugo.chan(), dat = lugo.chan() }
      local out, back = split(fwd)
      local body = f(back)
      lugo.go(function()
        while recv(fwd.req) do
          local t = get(body)
          if t == nil or not send(fwd.dat, t) then return end
        end
      end)
      return out
    end

    local function check(name, s, want)
      assert.same(want, first(s, #want), name)
    end

    it("computes series with goroutines and demand channels", function()
      stop = lugo.chan()
      lugo.run(function()
        check("Ones", ones(), { "1", "1", "1", "1", "1" })
        check("Diff(Ones)", diff(ones()), { "1", "2", "3", "4", "5", "6", "7", "8", "9", "10" })
        check("Integ(0, Ones)", integ(rat(0), ones()),
          { "0", "1", "1/2", "1/3", "1/4", "1/5", "1/6", "1/7", "1/8", "1/9" })
        check("Cmul(-1, Twos)", cmul(rat(-1), twos()), { "-2", "-2", "-2", "-2", "-2" })
        check("Add(Ones, Ones)", addps(ones(), ones()), { "2", "2", "2", "2" })
        -- exp(x) is the series E with E = 1 + integral of E
        check("Exp", fix(function(e) return integ(rat(1), e) end),
          { "1", "1", "1/2", "1/6", "1/24", "1/120", "1/720", "1/5040" })
        -- cos and sin by mutual feedback: C = 1 - integral of S, S = integral of C
        local sin = fix(function(s)
          return integ(rat(0), integ(rat(1), cmul(rat(-1), s)))
        end)
        check("Sin", sin, { "0", "1", "0", "-1/6", "0", "1/120", "0", "-1/5040" })
      end)
      stop:close()
      lugo.run()
    end)
  end)

  describe("zerosize.go", function()
    it("channels of booleans keep false apart from closed", function()
      for _, cap in ipairs { 0, 1 } do
        local c = lugo.chan(cap)
        lugo.go(function() c:send(false); c:send(true); c:close() end)
        assert.same({ false, true }, { c:recv() })
        assert.same({ true, true }, { c:recv() })
        assert.same({ n = 2, nil, false }, h.pack(c:recv()))
        lugo.run()
      end
    end)
  end)

  describe("chan_test.go", function()
    it("TestChan: blocking, non-blocking, close and order for capacities 0..20", function()
      for cap = 0, 20 do
        -- recv from an empty channel blocks; a non-blocking one fails
        local c = lugo.chan(cap)
        local recvd = false
        lugo.go(function() c:recv(); recvd = true end)
        lugo.sleep(0.0005)
        assert.is_false(recvd)
        assert.same({ n = 2, nil, nil }, h.pack(c:tryrecv()))
        c:send(0)
        lugo.run()
        assert.is_true(recvd)

        -- send to a full channel blocks; a non-blocking one fails
        c = lugo.chan(cap)
        for i = 1, cap do c:send(i) end
        local sent = false
        lugo.go(function() c:send(0); sent = true end)
        lugo.sleep(0.0005)
        assert.is_false(sent)
        assert.is_false(c:trysend(0))
        c:recv()
        lugo.run()
        assert.is_true(sent)

        -- close drains the buffer in order, then nil, false
        c = lugo.chan(cap)
        for i = 1, cap do c:send(i) end
        c:close()
        for i = 1, cap do assert.same({ i, true }, { c:recv() }) end
        assert.same({ n = 2, nil, false }, h.pack(c:recv()))

        -- close unblocks a blocked receiver
        c = lugo.chan(cap)
        local res
        lugo.go(function() res = h.pack(c:recv()) end)
        lugo.yield()
        c:close()
        lugo.run()
        assert.same({ n = 2, nil, false }, res)

        -- 100 values, in order
        c = lugo.chan(cap)
        lugo.go(function() for i = 1, 100 do c:send(i) end end)
        for i = 1, 100 do assert.equal(i, (c:recv())) end
        lugo.run()

        -- len and cap
        c = lugo.chan(cap)
        assert.equal(cap, c:cap())
        for i = 1, cap do c:send(i) end
        assert.equal(cap, #c)
      end
    end)

    it("TestChan: 4 senders and 4 receivers see every value 4 times", function()
      for _, cap in ipairs { 0, 1, 7, 100 } do
        local c = lugo.chan(cap)
        local counts = {}
        local wg = lugo.waitgroup()
        wg:add(4)
        for _ = 1, 4 do
          lugo.go(function() for i = 1, 1000 do c:send(i) end end)
          lugo.go(function()
            for _ = 1, 1000 do
              local v = c:recv()
              counts[v] = (counts[v] or 0) + 1
            end
            wg:done()
          end)
        end
        wg:wait()
        lugo.run()
        for i = 1, 1000 do assert.equal(4, counts[i]) end
      end
    end)

    it("TestNonblockRecvRace: a buffered value is received even while closing", function()
      for _ = 1, 1000 do
        local c = lugo.chan(1)
        c:send(1)
        lugo.go(function()
          local i = lugo.select { { "recv", c }, default = true }
          assert(i == 1, "chan is not ready")
        end)
        c:close()
        c:recv()
        lugo.run()
      end
    end)

    it("TestNonblockSelectRace: a select with a ready case never takes default", function()
      for _ = 1, 1000 do
        local c1, c2 = lugo.chan(1), lugo.chan(1)
        c1:send(1)
        lugo.go(function()
          lugo.select { { "recv", c1 }, { "recv", c2 }, default = true }
        end)
        lugo.go(function() c2:send(1) end)
        lugo.run()
        local i = lugo.select { { "recv", c1 }, { "recv", c2 }, default = true }
        assert.is_not_nil(i)
      end
    end)

    it("TestSelfSelect: a goroutine never receives its own value", function()
      for _, cap in ipairs { 0, 10 } do
        local c = lugo.chan(cap)
        local wg = lugo.waitgroup()
        wg:add(2)
        for p = 1, 2 do
          lugo.go(function()
            for i = 1, 1000 do
              if (p == 1) == (i % 2 == 1) then
                local k, v = lugo.select { { "send", c, p }, { "recv", c } }
                if k == 2 and cap == 0 then
                  assert(v ~= p, "self receive")
                end
              else
                local k, v = lugo.select { { "recv", c }, { "send", c, p } }
                if k == 1 and cap == 0 then
                  assert(v ~= p, "self receive")
                end
              end
            end
            wg:done()
          end)
        end
        wg:wait()
        lugo.run()
      end
    end)

    it("TestSelectStress: plain and select senders and receivers on 4 channels", function()
      local n = 5000
      local caps = { 0, 0, 2, 3 }
      local c = {}
      for k = 1, 4 do c[k] = lugo.chan(caps[k]) end
      local wg = lugo.waitgroup()
      for k = 1, 4 do
        wg:add(2)
        lugo.go(function() for _ = 1, n do c[k]:send(0) end; wg:done() end)
        lugo.go(function() for _ = 1, n do c[k]:recv() end; wg:done() end)
      end
      -- one goroutine sends on all four with a select, dropping finished cases
      wg:add(2)
      lugo.go(function()
        local left = { n, n, n, n }
        local cc = { c[1], c[2], c[3], c[4] }
        while cc[1] or cc[2] or cc[3] or cc[4] do
          local i = lugo.select {
            { "send", cc[1], 0 }, { "send", cc[2], 0 }, { "send", cc[3], 0 }, { "send", cc[4], 0 },
          }
          left[i] = left[i] - 1
          if left[i] == 0 then cc[i] = nil end
        end
        wg:done()
      end)
      lugo.go(function()
        local left = { n, n, n, n }
        local cc = { c[1], c[2], c[3], c[4] }
        while cc[1] or cc[2] or cc[3] or cc[4] do
          local i = lugo.select {
            { "recv", cc[1] }, { "recv", cc[2] }, { "recv", cc[3] }, { "recv", cc[4] },
          }
          left[i] = left[i] - 1
          if left[i] == 0 then cc[i] = nil end
        end
        wg:done()
      end)
      wg:wait()
      lugo.run()
    end)

    it("TestPseudoRandomSend: two send cases on one channel are both chosen", function()
      for _, cap in ipairs { 0, 100 } do
        local n = 100
        local c = lugo.chan(cap)
        local got = {}
        lugo.go(function()
          for k = 1, n do got[k] = c:recv() end
        end)
        for _ = 1, n do
          lugo.select { { "send", c, 1 }, { "send", c, 0 } }
        end
        lugo.run()
        local ones = 0
        for k = 1, n do ones = ones + got[k] end
        h.between(n / 10 + 1, ones, n - n / 10, "ones among " .. n)
      end
    end)

    it("TestMultiConsumer: workers drain a queue, nothing lost", function()
      local nwork, niter = 23, 10000
      local q, r = lugo.chan(nwork * 3), lugo.chan(nwork * 3)
      local wg = lugo.waitgroup()
      for _ = 1, nwork do
        wg:add(1)
        lugo.go(function()
          for v in q:range() do
            if v % 7 == 0 then lugo.yield() end
            r:send(v)
          end
          wg:done()
        end)
      end
      local expect_n, expect_sum = 0, 0
      lugo.go(function()
        for i = 1, niter do
          local v = (i * 31) % 1000
          q:send(v)
          expect_n, expect_sum = expect_n + 1, expect_sum + v
        end
        q:close()
        wg:wait()
        r:close()
      end)
      local n, sum = 0, 0
      for v in r:range() do n, sum = n + 1, sum + v end
      lugo.run()
      assert.equal(expect_n, n)
      assert.equal(expect_sum, sum)
    end)

    it("TestTimerFairness: a timer fires while others flood the select", function()
      local c = lugo.chan()
      local quit = lugo.chan()
      for _ = 1, 2 do
        lugo.go(function()
          while lugo.select { { "send", c, 1 }, { "recv", quit } } == 1 do end
        end)
      end
      local t0 = lugo.now()
      local timer = lugo.after(0.01)
      while true do
        local i = lugo.select { { "recv", c }, { "recv", timer } }
        if i == 2 then break end
      end
      h.between(0.01, lugo.now() - t0, 0.11, "the flooded timer")
      quit:close()
      lugo.run()
    end)
  end)

  describe("TestShrinkStackDuringBlockedSend", function()
    it("values survive a collection while their goroutines are parked", function()
      local c = lugo.chan()
      local function deep(n) if n == 0 then return 0 end return 1 + deep(n - 1) end
      local function park_deep(n) if n == 0 then return c:recv() end return park_deep(n - 1) end
      -- a sender parked with its value after its stack grew and shrank
      lugo.go(function() deep(10000); c:send({ "from a parked sender" }) end)
      lugo.yield()
      collectgarbage("collect")
      collectgarbage("collect")
      assert.equal("from a parked sender", c:recv()[1])
      lugo.run()

      local got = {}
      -- a receiver whose stack grew and shrank back before it parked
      lugo.go(function() local d = deep(10000); got[1] = { d, c:recv()[1] } end)
      -- a receiver parked at the bottom of a deep recursion
      lugo.go(function() got[2] = park_deep(10000)[1] end)
      lugo.yield()
      collectgarbage("collect")
      collectgarbage("collect")
      c:send({ "one" })
      c:send({ "two" })
      lugo.run()
      assert.same({ 10000, "one" }, got[1])
      assert.equal("two", got[2])
    end)
  end)

  describe("ken/chan1.go", function()
    it("1,000 messages to 10 receivers over a buffer of 2, each once", function()
      local c = lugo.chan(2)
      local seen, total = {}, 0
      local wg = lugo.waitgroup()
      for _ = 1, 10 do
        wg:add(1)
        lugo.go(function()
          for v in c:range() do
            assert(not seen[v], "duplicate " .. v)
            seen[v] = true
            total = total + 1
          end
          wg:done()
        end)
      end
      for i = 1, 1000 do c:send(i) end
      c:close()
      wg:wait()
      assert.equal(1000, total)
    end)
  end)

  describe("many waiters", function()
    it("10,000 goroutines parked on one channel all wake on close", function()
      local c = lugo.chan()
      local woke = 0
      for _ = 1, 10000 do
        lugo.go(function()
          local _, ok = c:recv()
          if ok == false then woke = woke + 1 end
        end)
      end
      lugo.yield()
      assert.equal(10000, lugo.stats().blocked)
      c:close()
      lugo.run()
      assert.equal(10000, woke)
    end)

    it("10,000 parked senders are served in order", function()
      local c = lugo.chan()
      for i = 1, 10000 do
        lugo.go(function() c:send(i) end)
        lugo.yield() -- sender i parks before sender i+1 starts
      end
      for i = 1, 10000 do
        local v = c:recv()
        assert(v == i, "got " .. tostring(v) .. ", want " .. i)
      end
      lugo.run()
    end)
  end)

  describe("select2.go", function()
    it("100,000 selects do not grow the Lua heap", function()
      local function run()
        local c, dummy = lugo.chan(), lugo.chan()
        lugo.go(function() for i = 1, 100000 do c:send(i) end end)
        for _ = 1, 100000 do
          local i = lugo.select { { "recv", c }, { "recv", dummy } }
          assert(i == 1, "dummy fired")
        end
        lugo.run()
      end
      run() -- warm up
      collectgarbage("collect")
      collectgarbage("collect")
      local before = collectgarbage("count")
      run()
      collectgarbage("collect")
      collectgarbage("collect")
      local growth = (collectgarbage("count") - before) * 1024
      h.between(-math.huge, growth, 100 * 1024, "heap growth in bytes after 100,000 selects")
    end)
  end)
end)
