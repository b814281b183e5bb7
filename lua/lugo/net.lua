--- lugo.tcp, lugo.dns, lugo.fs and lugo.signal: LuaSocket-style calls
-- that park only their goroutine. The C functions (bindings/lua/tcp.c, dns.c) answer at once
-- or park and return core.PARK, with the error that woke them if any;
-- these wrappers call again until there is an answer.
local core = require "lugo.core"

local PARK, park = core.PARK, core.park
local type, tostring = type, tostring
local conn_methods, listener_methods = core.conn_methods, core.listener_methods

local dns = {}

--- Addresses for `name`: { "127.0.0.1", "::1", ... } or nil, err.
function dns.resolve(name)
  if type(name) ~= "string" then
    error("bad argument #1 to 'resolve' (string expected, got " .. type(name) .. ")", 2)
  end
  local req, err = core.dns_resolve(name)
  if not req then return nil, err end
  local _, werr = park()
  if werr then return nil, werr end
  return core.dns_result(req)
end

local function isip(host)
  return host == "*" or host:match("^%d+%.%d+%.%d+%.%d+$") or host:find(":", 1, true)
end

--- The first address for host: an IP literal as it is, a name resolved.
local function address(host)
  if type(host) ~= "string" then
    error("bad argument #1 (host string expected, got " .. type(host) .. ")", 3)
  end
  if isip(host) then return host end
  local list, err = dns.resolve(host)
  if not list then return nil, err end
  if not list[1] then return nil, "host not found" end
  -- prefer IPv4 for names like "localhost", as most servers listen there
  for _, a in ipairs(list) do
    if not a:find(":", 1, true) then return a end
  end
  return list[1]
end

local tcp = {}

--- A listener on host:port; opts.backlog, opts.reuseport.
function tcp.listen(host, port, opts)
  local ip, err = address(host)
  if not ip then return nil, err end
  opts = opts or {}
  return core.tcp_listen(ip, port, opts.backlog, opts.reuseport)
end

--- A connected stream, or nil, err; opts.timeout bounds the connect.
function tcp.connect(host, port, opts)
  local ip, err = address(host)
  if not ip then return nil, err end
  local c, cerr = core.tcp_connect(ip, port, opts and opts.timeout)
  if not c then return nil, cerr end
  local _, werr = park()
  local ok
  if werr then ok, cerr = nil, werr else ok, cerr = core.tcp_status(c) end
  if not ok then
    c:close()
    return nil, cerr
  end
  c:settimeout(nil)  -- opts.timeout was for the connect only
  return c
end

local receive, send, accept = conn_methods.receive, conn_methods.send,
  listener_methods.accept

--- "*l" (default): a line without its end; "*a": all until the peer
-- closes; n: n bytes. data, or nil, err, partial.
function conn_methods:receive(pattern)
  local a, b, c = receive(self, pattern)
  while a == PARK do a, b, c = receive(self, pattern, b) end
  if a then return a end
  return nil, b, c
end

--- Bytes sent (all of data), or nil, err.
function conn_methods:send(data)
  if type(data) == "number" then data = tostring(data) end
  local n, err = send(self, data)
  if n == PARK then
    if err then return nil, err end
    return #data
  end
  return n, err
end

--- A new stream, or nil, err.
function listener_methods:accept()
  local c, err = accept(self)
  while c == PARK do c, err = accept(self, err) end
  return c, err
end

local udp = {}
local udp_methods = core.udp_methods
local recvfrom, sendto = udp_methods.recvfrom, udp_methods.sendto

--- An unbound socket (the system picks a port at the first send).
function udp.open()
  return core.udp_open()
end

--- A socket bound to host:port.
function udp.bind(host, port)
  local ip, err = address(host)
  if not ip then return nil, err end
  return core.udp_open(ip, port)
end

--- data, host, port of the next datagram, or nil, err.
function udp_methods:recvfrom()
  local a, b, c = recvfrom(self)
  while a == PARK do a, b, c = recvfrom(self, b) end
  return a, b, c
end

--- Send data to host:port: #data, or nil, err.
function udp_methods:sendto(data, host, port)
  local ip, err = address(host)
  if not ip then return nil, err end
  local n, serr = sendto(self, data, ip, port)
  if n == PARK then
    if serr then return nil, serr end
    return #data
  end
  return n, serr
end

local fs = { watch = core.fs_watch }

--- The contents of the file at path, or nil, err.
function fs.readfile(path)
  local req, err = core.fs_start(path)
  if not req then return nil, err end
  local _, werr = park()
  if werr then return nil, werr end
  return core.fs_result(req)
end

--- Replace the file at path with data: true, or nil, err.
function fs.writefile(path, data)
  if type(data) ~= "string" then
    error("bad argument #2 to 'writefile' (string expected, got " .. type(data) .. ")", 2)
  end
  local req, err = core.fs_start(path, data)
  if not req then return nil, err end
  local _, werr = park()
  if werr then return nil, werr end
  return core.fs_result(req, true)
end

return { tcp = tcp, udp = udp, dns = dns, fs = fs, signal = core.signal }
