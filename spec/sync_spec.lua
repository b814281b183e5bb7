describe("sync", function()
  local h = require "spec.helper"
  local lugo = h.lugo

  describe("lugo.waitgroup()", function()
    it(":wait() returns once every :done() is in", function()
      local wg = lugo.waitgroup()
      local finished = 0
      wg:add(10)
      for i = 1, 10 do
        lugo.go(function()
          lugo.sleep(0.001 * i)
          finished = finished + 1
          wg:done()
        end)
      end
      wg:wait()
      assert.equal(10, finished)
      lugo.run()
    end)

    it(":wait() with a zero counter returns at once", function()
      local wg = lugo.waitgroup()
      wg:wait()
      wg:add(2)
      wg:add(-2)
      wg:wait()
    end)

    it("releases every waiter", function()
      local wg = lugo.waitgroup()
      local released = 0
      wg:add(1)
      for _ = 1, 5 do lugo.go(function() wg:wait(); released = released + 1 end) end
      lugo.yield()
      assert.equal(0, released)
      wg:done()
      lugo.run()
      assert.equal(5, released)
    end)

    it("can be reused after a wait", function()
      local wg = lugo.waitgroup()
      for round = 1, 3 do
        local n = 0
        wg:add(round)
        for _ = 1, round do lugo.go(function() n = n + 1; wg:done() end) end
        wg:wait()
        assert.equal(round, n)
      end
      lugo.run()
    end)

    it("raises on a negative counter", function()
      local wg = lugo.waitgroup()
      h.raises("negative WaitGroup counter", wg.done, wg)
      h.raises("negative WaitGroup counter", wg.add, wg, -1)
      wg:add(1)
      h.raises("negative WaitGroup counter", wg.add, wg, -2)
    end)

    it(":wait() on the main thread with nobody to call :done() deadlocks", function()
      local wg = lugo.waitgroup()
      wg:add(1)
      assert.has_error(function() wg:wait() end, h.DEADLOCK)
      wg:done()
      wg:wait()
    end)

    it(":add() raises on a non-number", function()
      local wg = lugo.waitgroup()
      h.raises("number expected", wg.add, wg, "one")
    end)
  end)

  describe("lugo.mutex()", function()
    it("makes critical sections exclusive across parks", function()
      local mu = lugo.mutex()
      local inside, most, total = 0, 0, 0
      for _ = 1, 10 do
        lugo.go(function()
          for _ = 1, 10 do
            mu:lock()
            inside = inside + 1
            most = math.max(most, inside)
            lugo.yield()
            total = total + 1
            inside = inside - 1
            mu:unlock()
          end
        end)
      end
      lugo.run()
      assert.equal(1, most)
      assert.equal(100, total)
    end)

    it(":trylock() takes a free mutex only", function()
      local mu = lugo.mutex()
      assert.is_true(mu:trylock())
      assert.is_false(mu:trylock())
      mu:unlock()
      assert.is_true(mu:trylock())
      mu:unlock()
    end)

    it("may be unlocked by another goroutine", function()
      local mu = lugo.mutex()
      mu:lock()
      lugo.go(function() mu:unlock() end)
      mu:lock() -- drives the scheduler until the goroutine unlocks
      mu:unlock()
      lugo.run()
    end)

    it("wakes every waiter in turn", function()
      local mu = lugo.mutex()
      local got = {}
      mu:lock()
      for i = 1, 5 do
        lugo.go(function() mu:lock(); got[#got + 1] = i; mu:unlock() end)
      end
      lugo.yield()
      assert.same({}, got)
      mu:unlock()
      lugo.run()
      table.sort(got)
      assert.same({ 1, 2, 3, 4, 5 }, got)
      assert.is_true(mu:trylock())
      mu:unlock()
    end)

    it("raises on unlock of an unlocked mutex", function()
      local mu = lugo.mutex()
      h.raises("unlock of unlocked mutex", mu.unlock, mu)
      mu:lock()
      mu:unlock()
      h.raises("unlock of unlocked mutex", mu.unlock, mu)
    end)

    it(":lock() on the main thread of a mutex nobody will unlock deadlocks", function()
      local mu = lugo.mutex()
      mu:lock()
      assert.has_error(function() mu:lock() end, h.DEADLOCK)
      mu:unlock()
      assert.is_true(mu:trylock())
      mu:unlock()
    end)
  end)

  describe("lugo.rwmutex()", function()
    it("lets readers share it", function()
      local rw = lugo.rwmutex()
      local readers, most = 0, 0
      for _ = 1, 5 do
        lugo.go(function()
          rw:rlock()
          readers = readers + 1
          most = math.max(most, readers)
          lugo.sleep(0.01)
          readers = readers - 1
          rw:runlock()
        end)
      end
      lugo.run()
      assert.equal(5, most)
    end)

    it("gives a writer sole access", function()
      local rw = lugo.rwmutex()
      local readers, writers, bad = 0, 0, false
      local function check()
        if writers > 1 or (writers == 1 and readers > 0) then bad = true end
      end
      for i = 1, 20 do
        lugo.go(function()
          for _ = 1, 5 do
            if i % 4 == 0 then
              rw:lock(); writers = writers + 1; check()
              lugo.yield()
              writers = writers - 1; rw:unlock()
            else
              rw:rlock(); readers = readers + 1; check()
              lugo.yield()
              readers = readers - 1; rw:runlock()
            end
          end
        end)
      end
      lugo.run()
      assert.is_false(bad)
    end)

    it("holds new readers back while a writer waits", function()
      local rw = lugo.rwmutex()
      local log = {}
      rw:rlock()
      lugo.go(function() rw:lock(); log[#log + 1] = "writer"; rw:unlock() end)
      lugo.yield() -- the writer waits for the first reader
      lugo.go(function() rw:rlock(); log[#log + 1] = "reader"; rw:runlock() end)
      lugo.yield()
      assert.same({}, log)
      rw:runlock()
      lugo.run()
      assert.same({ "writer", "reader" }, log)
    end)

    it("raises on unlocking what is not locked", function()
      local rw = lugo.rwmutex()
      local msg = h.errmsg(rw.runlock, rw)
      assert.matches("unlock of unlocked", msg:lower(), 1, true)
      msg = h.errmsg(rw.unlock, rw)
      assert.matches("unlock of unlocked", msg:lower(), 1, true)
    end)
  end)

  describe("misuse", function()
    it("raises a clear error for a method called on the wrong object", function()
      local mu, wg, rw, sem = lugo.mutex(), lugo.waitgroup(), lugo.rwmutex(), lugo.semaphore(1)
      h.raises("lugo.mutex expected, got number", mu.lock, 42)
      h.raises("lugo.waitgroup expected", wg.wait, {})
      h.raises("lugo.rwmutex expected", rw.rlock, mu)
      h.raises("lugo.semaphore expected", sem.acquire, mu)
      h.raises("lugo.mutex expected", lugo.cond, 42)
    end)
  end)

  describe("lugo.once()", function()
    it("runs fn on the first call only, with its arguments", function()
      local once = lugo.once()
      local calls = {}
      for i = 1, 3 do once:call(function(...) calls[#calls + 1] = { ... } end, i, "x") end
      assert.same({ { 1, "x" } }, calls)
    end)

    it("makes later callers wait until fn has finished", function()
      local once = lugo.once()
      local ready, seen = false, {}
      for i = 1, 4 do
        lugo.go(function()
          once:call(function() lugo.sleep(0.02); ready = true end)
          seen[i] = ready
        end)
      end
      lugo.run()
      assert.same({ true, true, true, true }, seen)
    end)

    it("counts a call that raised as done, as Go does", function()
      local once = lugo.once()
      local n = 0
      h.raises("first", once.call, once, function() n = n + 1; error("first") end)
      once:call(function() n = n + 1 end)
      assert.equal(1, n)
    end)

    it("raises on a non-function", function()
      local once = lugo.once()
      h.raises("function expected", once.call, once, 42)
    end)
  end)

  describe("lugo.cond()", function()
    it(":wait() releases the mutex and holds it again on wake-up", function()
      local mu = lugo.mutex()
      local cond = lugo.cond(mu)
      local ready, held_on_wake = false, nil
      lugo.go(function()
        mu:lock()
        while not ready do cond:wait() end
        held_on_wake = not mu:trylock()
        mu:unlock()
      end)
      lugo.yield()
      assert.is_true(mu:trylock()) -- released while waiting
      ready = true
      cond:signal()
      mu:unlock()
      lugo.run()
      assert.is_true(held_on_wake)
    end)

    it(":signal() wakes one waiter, in the order they waited", function()
      local mu = lugo.mutex()
      local cond = lugo.cond(mu)
      local woke = {}
      for i = 1, 3 do
        lugo.go(function()
          mu:lock()
          cond:wait()
          woke[#woke + 1] = i
          mu:unlock()
        end)
        lugo.yield()
      end
      for n = 1, 3 do
        cond:signal()
        lugo.yield()
        lugo.yield()
        assert.equal(n, #woke)
      end
      assert.same({ 1, 2, 3 }, woke)
      lugo.run()
    end)

    it(":broadcast() wakes every waiter", function()
      local mu = lugo.mutex()
      local cond = lugo.cond(mu)
      local woke = 0
      for _ = 1, 10 do
        lugo.go(function() mu:lock(); cond:wait(); woke = woke + 1; mu:unlock() end)
      end
      lugo.yield()
      cond:broadcast()
      lugo.run()
      assert.equal(10, woke)
    end)

    it(":signal() and :broadcast() with no waiter do nothing", function()
      local cond = lugo.cond(lugo.mutex())
      cond:signal()
      cond:broadcast()
    end)

    it("drives a bounded queue", function()
      local mu = lugo.mutex()
      local not_empty, not_full = lugo.cond(mu), lugo.cond(mu)
      local queue, out = {}, {}
      lugo.go(function()
        for i = 1, 50 do
          mu:lock()
          while #queue >= 3 do not_full:wait() end
          queue[#queue + 1] = i
          not_empty:signal()
          mu:unlock()
        end
      end)
      lugo.go(function()
        for _ = 1, 50 do
          mu:lock()
          while #queue == 0 do not_empty:wait() end
          out[#out + 1] = table.remove(queue, 1)
          not_full:signal()
          mu:unlock()
        end
      end)
      lugo.run()
      assert.equal(50, #out)
      for i = 1, 50 do assert.equal(i, out[i]) end
    end)

    it(":wait() without holding the mutex raises", function()
      local cond = lugo.cond(lugo.mutex())
      h.raises("unlock of unlocked mutex", lugo.run, function() cond:wait() end)
    end)

    it("raises without a mutex", function()
      assert.has_error(function() lugo.cond() end)
      assert.has_error(function() lugo.cond(42) end)
    end)
  end)

  describe("lugo.semaphore()", function()
    it("limits how many hold it at once", function()
      local sem = lugo.semaphore(3)
      local inside, most = 0, 0
      for _ = 1, 10 do
        lugo.go(function()
          sem:acquire()
          inside = inside + 1
          most = math.max(most, inside)
          lugo.sleep(0.005)
          inside = inside - 1
          sem:release()
        end)
      end
      lugo.run()
      assert.equal(3, most)
    end)

    it("takes and gives back k units at a time", function()
      local sem = lugo.semaphore(5)
      sem:acquire(3)
      assert.is_false(sem:tryacquire(3))
      assert.is_true(sem:tryacquire(2))
      assert.is_false(sem:tryacquire())
      sem:release(5)
      assert.is_true(sem:tryacquire(5))
      sem:release(5)
    end)

    it(":acquire() waits for a release", function()
      local sem = lugo.semaphore(1)
      sem:acquire()
      local got = false
      lugo.go(function() sem:acquire(); got = true; sem:release() end)
      lugo.yield()
      assert.is_false(got)
      sem:release()
      lugo.run()
      assert.is_true(got)
    end)

    it("serves waiters in order: a large request is not starved", function()
      local sem = lugo.semaphore(3)
      local log = {}
      sem:acquire(3)
      lugo.go(function() sem:acquire(3); log[#log + 1] = "big"; sem:release(3) end)
      lugo.yield()
      lugo.go(function() sem:acquire(1); log[#log + 1] = "small"; sem:release(1) end)
      lugo.yield()
      sem:release(1) -- one unit free: the small request must still wait behind the big one
      lugo.yield()
      assert.same({}, log)
      sem:release(2)
      lugo.run()
      assert.same({ "big", "small" }, log)
    end)

    it("raises when released more than held", function()
      local sem = lugo.semaphore(2)
      h.raises("released more than held", sem.release, sem)
      sem:acquire(2)
      h.raises("released more than held", sem.release, sem, 3)
      sem:release(2)
    end)

    it("raises on a size or count that is not a number", function()
      h.raises("number expected", lugo.semaphore, "three")
      local sem = lugo.semaphore(1)
      h.raises("number expected", sem.acquire, sem, "one")
    end)

    it(":acquire() on the main thread with nobody to release deadlocks", function()
      local sem = lugo.semaphore(1)
      sem:acquire()
      assert.has_error(function() sem:acquire() end, h.DEADLOCK)
      sem:release()
      assert.is_true(sem:tryacquire())
      sem:release()
    end)
  end)
end)
