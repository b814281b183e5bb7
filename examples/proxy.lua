-- TCP proxy with idle timeouts. For each client the proxy connects to an
-- upstream server and copies both ways with two goroutines; a client that
-- says nothing for IDLE seconds is cut off (conn:settimeout makes its
-- receive return nil, "timeout"). Each connection's byte counts are
-- printed when it ends. The upstream is a small line echo server started
-- by the script itself, and three clients exercise the proxy: a quick one,
-- a bulk one that sends and reads at the same time, and a slow one that
-- gets cut off.
--
-- The protocol is line based, so the copy is too (receive("*l"), which
-- drops a "\r" before the "\n"): lugo.tcp has no "whatever has arrived"
-- receive pattern, and a byte count would wait for all its bytes.
--
--   bin/lugo examples/proxy.lua           run the demo and exit
--   bin/lugo examples/proxy.lua --serve   keep proxying 127.0.0.1:7008 to
--       the echo upstream until Ctrl-C; try `nc 127.0.0.1 7008` and wait
local lugo = require "lugo"

local IDLE = 0.3  -- seconds a client may stay silent

---------------------------------------------------------------- upstream

-- Answers each line with "> " and the line.
local function upstream(ln)
  while true do
    local conn = ln:accept()
    if not conn then return end
    lugo.go(function()
      while true do
        local line = conn:receive("*l")
        if not line or not conn:send("> " .. line .. "\n") then break end
      end
      conn:close()
    end)
  end
end

------------------------------------------------------------------- proxy

-- Copy lines from src to dst until src ends or stays silent for `idle`
-- seconds (nil: no limit). Returns the bytes copied and why it stopped:
-- "closed" (the sender finished), "timeout", "reset", or a send error.
local function pipe(src, dst, idle)
  src:settimeout(idle)
  local n = 0
  while true do
    local line, err, partial = src:receive("*l")
    local data = line and line .. "\n" or partial  -- partial: a last line
    if #data > 0 then
      local ok, serr = dst:send(data)
      if not ok then return n, "send " .. serr end
      n = n + #data
    end
    if not line then return n, err end
  end
end

-- One client: connect upstream, run the two copies, report.
local function handle(id, client, up_host, up_port, log)
  local chost, cport = client:peername()
  local name = ("conn %d (%s:%d)"):format(id, chost, cport)
  local up, err = lugo.tcp.connect(up_host, up_port, { timeout = 1 })
  if not up then
    log(name .. ": upstream " .. err)
    client:send("proxy: upstream " .. err .. "\n")
    client:close()
    return
  end
  local t0 = lugo.now()
  local sent, received = lugo.chan(1), lugo.chan(1)
  lugo.go(function()  -- client -> upstream, with the idle cut-off
    local n, why = pipe(client, up, IDLE)
    if why == "closed" then
      up:shutdown()   -- pass the end on: upstream finishes, then closes
    else
      if why == "timeout" then
        log(("%s: silent for %.1f s, cut off"):format(name, IDLE))
      end
      client:close()  -- wakes the other copy with "closed"
      up:close()
    end
    sent:send({ n, why })
  end)
  lugo.go(function()  -- upstream -> client, until upstream closes
    local n, why = pipe(up, client, nil)
    client:close()
    up:close()
    received:send({ n, why })
  end)
  local s, r = sent:recv(), received:recv()
  log(("%s: %d B up, %d B down in %.2f s (client side: %s)"):format(
    name, s[1], r[1], lugo.now() - t0, s[2]))
end

local function proxy(ln, up_host, up_port, log)
  local id = 0
  while true do
    local client = ln:accept()
    if not client then return end
    id = id + 1
    lugo.go(handle, id, client, up_host, up_port, log)
  end
end

local up_ln = assert(lugo.tcp.listen("127.0.0.1", 0))
local up_host, up_port = up_ln:addr()
lugo.go(upstream, up_ln)

if arg[1] == "--serve" then
  local ln = assert(lugo.tcp.listen("127.0.0.1", 7008))
  local host, port = ln:addr()
  print(("proxy on %s:%d -> upstream %s:%d, idle cut-off %.1f s (Ctrl-C to stop)")
    :format(host, port, up_host, up_port, IDLE))
  lugo.go(proxy, ln, up_host, up_port, print)
  lugo.signal("SIGINT"):recv()
  ln:close()
  up_ln:close()
  return
end

local ln = assert(lugo.tcp.listen("127.0.0.1", 0))
local host, port = ln:addr()
print(("proxy on %s:%d -> upstream %s:%d, idle cut-off %.1f s")
  :format(host, port, up_host, up_port, IDLE))
lugo.go(proxy, ln, up_host, up_port, print)

local wg = lugo.waitgroup()
local function client(name, fn)
  wg:add(1)
  lugo.go(function()
    local conn = assert(lugo.tcp.connect(host, port))
    conn:settimeout(2)
    fn(conn, function(s) print(name .. ": " .. s) end)
    conn:close()
    wg:done()
  end)
end

-- Three lines, one at a time.
client("quick", function(conn, say)
  for _, w in ipairs{ "alpha", "beta", "gamma" } do
    conn:send(w .. "\n")
    say("got " .. assert(conn:receive("*l")))
  end
end)

-- 10,000 lines: a goroutine sends them all, then half-closes, while this
-- one reads the answers until the proxy closes.
client("bulk", function(conn, say)
  local n = 10000
  lugo.go(function()
    for i = 1, n do conn:send(("line %05d\n"):format(i)) end
    conn:shutdown()
  end)
  local got, last = 0, nil
  while true do
    local line = conn:receive("*l")
    if not line then break end
    got, last = got + 1, line
  end
  say(("sent %d lines, got %d back, the last %q"):format(n, got, last))
end)

-- One line, then silence for longer than IDLE.
client("slow", function(conn, say)
  conn:send("hello\n")
  say("got " .. assert(conn:receive("*l")))
  lugo.sleep(IDLE * 2)
  local ok, err = conn:send("still there?\n")
  say("send after the pause: " .. tostring(ok or err))
  local line, rerr = conn:receive("*l")
  say("receive after the pause: " .. tostring(line or rerr))
end)

wg:wait()
lugo.sleep(0.05)  -- the proxy's last reports
ln:close()
up_ln:close()
