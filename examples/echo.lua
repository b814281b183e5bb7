-- TCP echo: a line-based echo server, one goroutine per connection, and
-- several concurrent clients talking to it. Then two clients that show the
-- ends of a stream: one sends everything, half-closes (conn:shutdown())
-- and reads the replies with "*a"; one stops in the middle of a line, which
-- the server's receive("*l") hands over as nil, "closed", partial.
--
--   bin/lugo examples/echo.lua           run the demo and exit
--   bin/lugo examples/echo.lua --serve   keep serving on 127.0.0.1:7007
--       until Ctrl-C; try it with `nc 127.0.0.1 7007`
local lugo = require "lugo"

-- A string quoted on one line, "\r" and "\n" shown as such.
local function show(s)
  return '"' .. s:gsub("\r", "\\r"):gsub("\n", "\\n") .. '"'
end

-- One connection: echo each line back until the client goes away.
local function serve(conn, log)
  local host, port = conn:peername()
  local lines = 0
  while true do
    local line, err, partial = conn:receive("*l")
    if not line then
      if partial ~= "" then  -- a last line without its newline
        log(("server: %s:%d left mid-line: %s"):format(host, port, show(partial)))
      end
      log(("server: %s:%d %s after %d lines"):format(host, port, err, lines))
      break
    end
    lines = lines + 1
    if not conn:send(line:upper() .. "\n") then break end
  end
  conn:close()
end

-- The accept loop ends when the listener is closed.
local function accept_loop(ln, log)
  while true do
    local conn, err = ln:accept()
    if not conn then
      log("server: accept: " .. err)
      return
    end
    lugo.go(serve, conn, log)
  end
end

if arg[1] == "--serve" then
  local ln = assert(lugo.tcp.listen("127.0.0.1", 7007))
  print(("echoing on %s:%d (Ctrl-C to stop)"):format(ln:addr()))
  lugo.go(accept_loop, ln, print)
  local sigint = lugo.signal("SIGINT")
  sigint:recv()
  ln:close()
  return
end

-- Port 0: the system picks a free one; ln:addr() tells which.
local ln = assert(lugo.tcp.listen("127.0.0.1", 0))
local host, port = ln:addr()
print(("echo server on %s:%d"):format(host, port))
-- The server's log lines go through a channel, so they are printed by
-- main, after the clients' lines.
local serverlog = lugo.chan(100)
lugo.go(accept_loop, ln, function(s) serverlog:send(s) end)

-- Four clients at once, each sending three lines and reading each echo
-- before the next line: their outputs interleave.
local wg = lugo.waitgroup()
for id = 1, 4 do
  wg:add(1)
  lugo.go(function()
    local conn = assert(lugo.tcp.connect(host, port, { timeout = 1 }))
    conn:settimeout(2)
    for n = 1, 3 do
      local msg = ("hello %d.%d"):format(id, n)
      conn:send(msg .. "\n")
      local echo, err = conn:receive("*l")
      print(("client %d: sent %s got %s"):format(id, show(msg), show(echo or err)))
      lugo.sleep(0.01 * id)  -- different paces, so the turns mix
    end
    conn:close()
    wg:done()
  end)
end
wg:wait()

-- A pipelining client: all lines in one send, then conn:shutdown() (no
-- more sends; the server sees end of stream), then "*a" reads every echo
-- up to the server's close.
do
  local conn = assert(lugo.tcp.connect(host, port))
  conn:settimeout(2)
  print("pipeline: sent " .. conn:send("one\ntwo\r\nthree\n") .. " bytes, then shutdown")
  conn:shutdown()
  local all, err = conn:receive("*a")
  print("pipeline: got " .. show(all or err))
  conn:close()
end

-- A client that stops mid-line.
do
  local conn = assert(lugo.tcp.connect(host, port))
  conn:send("complete line\nincompl")
  print("mid-line: got " .. show(conn:receive("*l")) .. ", closing")
  conn:close()
end

-- A connection refused: nothing listens on the port any more.
ln:close()
lugo.sleep(0.05)  -- let the server goroutines log their ends
local conn, err = lugo.tcp.connect(host, port, { timeout = 1 })
print(("connect after close: %s, %s"):format(tostring(conn), err))

serverlog:close()
for line in serverlog:range() do print(line) end
