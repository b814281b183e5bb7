describe("lugo.pool", function()
  local h = require "spec.helper"
  local lugo = h.lugo

  -- A pool whose `new` numbers the objects it makes.
  local function counting_pool(reset)
    local made = 0
    local pool = lugo.pool {
      new = function() made = made + 1; return { id = made } end,
      reset = reset,
    }
    return pool, function() return made end
  end

  -- Pooled objects may be dropped at any collection: keep the collector
  -- out of the specs that check reuse.
  local function without_gc(fn)
    collectgarbage("stop")
    local ok, err = pcall(fn)
    collectgarbage("restart")
    if not ok then error(err, 0) end
  end

  it(":get() calls new when the pool is empty", function()
    local pool, made = counting_pool()
    local a, b = pool:get(), pool:get()
    assert.are_not.equal(a, b)
    assert.equal(2, made())
  end)

  it(":get() reuses an object given to :put()", function()
    without_gc(function()
      local pool, made = counting_pool()
      local a = pool:get()
      pool:put(a)
      assert.equal(a, pool:get())
      assert.equal(1, made())
    end)
  end)

  it(":put() calls reset on the object first", function()
    without_gc(function()
      local resets = {}
      local pool = counting_pool(function(obj)
        resets[#resets + 1] = obj
        obj.dirty = nil
      end)
      local a = pool:get()
      a.dirty = true
      pool:put(a)
      assert.same({ a }, resets)
      local b = pool:get()
      assert.equal(a, b)
      assert.is_nil(b.dirty)
    end)
  end)

  it("hands out each pooled object to one getter only", function()
    without_gc(function()
      local pool = counting_pool()
      local objs = {}
      for i = 1, 10 do objs[i] = pool:get() end
      for i = 1, 10 do pool:put(objs[i]) end
      local seen = {}
      for _ = 1, 20 do
        local o = pool:get()
        assert.is_nil(seen[o])
        seen[o] = true
      end
    end)
  end)

  it("may drop pooled objects at a collection, and still works", function()
    local pool, made = counting_pool()
    for _ = 1, 100 do pool:put(pool:get()) end
    for _ = 1, 5 do collectgarbage("collect") end
    local o = pool:get()
    assert.is_table(o)
    assert.is_number(o.id)
    assert.truthy(made() >= 1)
  end)

  it("is used by goroutines without giving one object to two holders", function()
    local pool = counting_pool()
    local holders, bad = {}, false
    for _ = 1, 20 do
      lugo.go(function()
        for _ = 1, 10 do
          local o = pool:get()
          if holders[o] then bad = true end
          holders[o] = true
          lugo.yield()
          holders[o] = nil
          pool:put(o)
        end
      end)
    end
    lugo.run()
    assert.is_false(bad)
  end)

  it(":put(nil) does nothing", function()
    local pool, made = counting_pool()
    pool:put(nil)
    pool:get()
    assert.equal(1, made())
  end)

  it("raises without a new function", function()
    assert.has_error(function() lugo.pool() end)
    assert.has_error(function() lugo.pool {} end)
    assert.has_error(function() lugo.pool { new = 42 } end)
    assert.has_error(function() lugo.pool { new = function() end, reset = 42 } end)
  end)
end)
