-- The concurrent prime sieve from the Go tour and "Go Concurrency
-- Patterns": a generator feeds a chain of filter goroutines, one per prime
-- found so far. A context stops the whole chain at the end.
--
--   bin/lugo examples/sieve.lua
local lugo = require "lugo"
local context = require "lugo.context"

local N = 25
local ctx, cancel = context.with_cancel(context.background())
local done = ctx:done()
local wg = lugo.waitgroup()

-- Send 2, 3, 4, ... on `out` until the context is canceled.
local function generate(out)
  local i = 2
  while lugo.select{ { "send", out, i }, { "recv", done } } == 1 do
    i = i + 1
  end
  wg:done()
end

-- Copy the values from `in_` to `out`, dropping multiples of `prime`.
local function filter(in_, out, prime)
  while true do
    local i, v = lugo.select{ { "recv", in_ }, { "recv", done } }
    if i == 2 then break end
    if v % prime ~= 0 then
      if lugo.select{ { "send", out, v }, { "recv", done } } == 2 then break end
    end
  end
  wg:done()
end

local ch = lugo.chan()
wg:add(1)
lugo.go(generate, ch)
local primes = {}
for n = 1, N do
  local prime = ch:recv()
  primes[n] = prime
  local ch1 = lugo.chan()
  wg:add(1)
  lugo.go(filter, ch, ch1, prime)
  ch = ch1
end
print(("the first %d primes: %s"):format(N, table.concat(primes, " ")))

cancel()   -- stop the generator and every filter
wg:wait()
print(("%d goroutines stopped; %d left"):format(N + 1, lugo.stats().goroutines - 1))
