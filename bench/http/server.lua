--- lugo peer of bench/http/server.go, for bench/net.sh:
--   lua5.4 bench/http/server.lua http          hello-world HTTP/1.1 server
--   luajit bench/http/server.lua echo [size]   TCP echo in blocks of size bytes
-- Listens on 127.0.0.1, a free port, prints "LISTEN <port>" and serves
-- until killed. On one processor; LUGO_BENCH_PROCS=n serves HTTP from n
-- (lugo.http.serve{procs = n}, SO_REUSEPORT).
local here = arg[0]:match("^(.*)/[^/]*$") or "."
package.path = here .. "/?.lua;" .. package.path  -- hello.lua, everywhere
local lugo = require "lugo"

local mode, size = arg[1], tonumber(arg[2]) or 65536
local procs = tonumber(os.getenv("LUGO_BENCH_PROCS")) or 1
if procs > 1 then lugo.procs(procs) end

local function listening(port)
  io.stdout:write("LISTEN ", port, "\n")
  io.stdout:flush()
end

if mode == "http" then
  local srv = assert(lugo.http.serve {
    host = "127.0.0.1", port = 0, procs = procs, handler = "hello.handle",
  })
  listening(select(2, srv:addr()))
elseif mode == "echo" then
  -- lugo's receive(n) waits for exactly n bytes, so the client sends whole
  -- blocks of `size`; a block cut short by the client's close ends the
  -- connection.
  local ln = assert(lugo.tcp.listen("127.0.0.1", 0))
  local function echo(c)
    while true do
      local d = c:receive(size)
      if not d or not c:send(d) then break end
    end
    c:close()
  end
  lugo.go(function()
    while true do
      local c = ln:accept()
      if not c then break end
      lugo.go(echo, c)
    end
  end)
  listening(select(2, ln:addr()))
else
  io.stderr:write("usage: server.lua http | echo [size]\n")
  os.exit(2)
end

lugo.run()  -- the listener's goroutine never ends: serve until killed
