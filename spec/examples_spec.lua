describe("examples/", function()
  local lua = jit and "luajit" or "lua5.4"

  -- Run an example with bin/lugo; its output and whether it exited 0.
  local function run(name)
    local p = assert(io.popen(("LUGO_LUA=%s timeout 60 bin/lugo examples/%s 2>&1; echo \"rc=$?\"")
      :format(lua, name)))
    local out = p:read("*a")
    p:close()
    return out, out:match("rc=0\n$") ~= nil
  end

  for name, expect in pairs {
    ["worker_pool.lua"] = "1000000 jobs on %d+ workers",
    ["sieve.lua"] = "2 3 5 7 11 13",
    ["timeout.lua"] = "timeout 1",
    ["batch.lua"] = "10000 items",
    ["http_hello.lua"] = '200 {"id":"42"',
    ["echo.lua"] = "HELLO",
    ["proxy.lua"] = "cut off",
    ["reload.lua"] = "final config",
    ["parallel_workers.lua"] = "on %d+ processors: [%d.]+ s, speedup [%d.]+x",
    ["order_dispatch.lua"] = "to the stealing queue: %d+\n  matched on P0",
  } do
    it(name .. " runs to the end and shows what it is about", function()
      local out, ok = run(name)
      assert.is_true(ok, out)
      assert.matches(expect, out)
    end)
  end
end)
