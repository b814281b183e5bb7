--- lugo.http: an HTTP/1.1 server and client. Parsing and writing are C
-- (bindings/lua/http.c over core/http.c); this file is the connection
-- loop, the request and response objects, and the policy: keep-alive,
-- timeouts, limits, what a handler's error turns into.
local core = require "lugo.core"
local net = require "lugo.net"

local PARK = core.PARK
local tcp = net.tcp
local error, pairs, pcall, setmetatable, tonumber, tostring, type, xpcall =
  error, pairs, pcall, setmetatable, tonumber, tostring, type, xpcall
local concat, traceback = table.concat, debug.traceback
local http_read, http_respond, http_chunk, http_state, http_request =
  core.http_read, core.http_respond, core.http_chunk, core.http_state,
  core.http_request

--- One whole request from conn (see core.http_read): its fields, or nil,
-- err (a string, or an HTTP status number for a malformed request).
local function read_request(state, conn)
  local method, path, query, version, keepalive, headers, body, cont =
    http_read(state, conn)
  while method == PARK do
    method, path, query, version, keepalive, headers, body, cont =
      http_read(state, conn, path)
  end
  return method, path, query, version, keepalive, headers, body, cont
end

--- One whole response: status, headers, body, or nil, err as
-- read_request.
local function read_response(state, conn)
  local status, version, _, headers, body = http_read(state, conn)
  while status == PARK do
    status, version, _, headers, body = http_read(state, conn, version)
  end
  if not status then return nil, version end
  return status, headers, body
end

--- The result of a C write that may have parked: true, or nil, err.
local function sent(n, err)
  if n == PARK then n = not err end
  if n then return true end
  return nil, err
end

---------------------------------------------------------------- server

local req_methods = {}
local req_mt = { __name = "lugo.http.request", __index = req_methods }

--- The request body (read whole before the handler runs).
function req_methods:body()
  return self.rawbody
end

local res_methods = {}
local res_mt = { __name = "lugo.http.response", __index = res_methods }

-- Framing for core.http_respond.
local LENGTH, CHUNKED = 0, 1

-- Past this many buffered bytes, res:write starts sending (chunked).
local STREAM_AT = 64 * 1024

function res_methods:status(code)
  if self.sent then error("response already started", 2) end
  if type(code) ~= "number" or code < 100 or code > 999 or code % 1 ~= 0 then
    error("bad argument #1 to 'status' (status must be 100..999)", 2)
  end
  self.code = code
  return self
end

-- Headers lugo writes itself from how the body is sent.
local FRAMING = { ["content-length"] = true, ["transfer-encoding"] = true }

-- Header names (to their lower case) and string values that passed the
-- checks below: a handler sets the same few headers on every request,
-- and the patterns cost more than the rest of res:header. Emptied when
-- full, as a handler may make names and values of its own.
local checked_names, checked_values, nchecked = {}, {}, 0
local CHECKED_MAX = 256

-- res:header's checks; returns the lower-case name and the value as a
-- string, or raises at res:header's caller.
local function check_header(k, v)
  if type(k) ~= "string" or (type(v) ~= "string" and type(v) ~= "number") then
    error("bad argument to 'header' (string name and string value expected)", 3)
  end
  local sv = tostring(v)
  if k == "" or k:find("[^%w!#$%%&'*+%-.^_`|~]") or sv:find("\r", 1, true)
      or sv:find("\n", 1, true) or sv:find("\0", 1, true) then
    error("bad argument to 'header' (name must be a token, value must not hold CR, LF or NUL)", 3)
  end
  if nchecked >= CHECKED_MAX then
    checked_names, checked_values, nchecked = {}, {}, 0
  end
  local lk = k:lower()
  checked_names[k] = lk
  if sv == v then checked_values[v] = true end
  nchecked = nchecked + 1
  return lk, sv
end

function res_methods:header(k, v)
  if self.sent then error("response already started", 2) end
  local lk = checked_names[k]
  if not (lk and checked_values[v]) then lk, v = check_header(k, v) end
  if FRAMING[lk] then return self end  -- lugo frames the body itself
  if lk == "connection" and v:lower() == "close" then
    self.close = true
    return self
  end
  local h = self.headers
  h[#h + 1] = k
  h[#h + 1] = v
  return self
end

-- Send what is buffered as the start of a chunked body (HTTP/1.1), or
-- keep buffering (HTTP/1.0 cannot take chunks).
local function flush(self)
  local parts = self.parts
  local body = concat(parts)
  for i = #parts, 1, -1 do parts[i] = nil end
  self.size = 0
  local ok, err
  if not self.sent then
    self.sent = true
    ok, err = sent(http_respond(self.conn, self.code, self.headers, body,
      CHUNKED, self.close, self.head))
  elseif not self.head then
    ok, err = sent(http_chunk(self.conn, body))
  end
  return ok, err
end

function res_methods:write(s)
  if self.finished then error("response already finished", 2) end
  s = tostring(s)
  if #s == 0 then return true end
  local parts = self.parts
  parts[#parts + 1] = s
  self.size = self.size + #s
  if self.size >= STREAM_AT and self.chunkable then return flush(self) end
  return true
end

function res_methods:finish(s)
  if self.finished then error("response already finished", 2) end
  if not self.sent and type(s) == "string" and #s < STREAM_AT and
      #self.parts == 0 then
    -- The whole body at once, the common case: no buffering.
    self.finished, self.sent = true, true
    return sent(http_respond(self.conn, self.code, self.headers, s, LENGTH,
      self.close, self.head))
  end
  if s ~= nil then self:write(s) end
  self.finished = true
  if self.sent then  -- streaming: the rest, then the last chunk
    if self.size > 0 then flush(self) end
    if self.head then return true end
    return sent(http_chunk(self.conn, ""))
  end
  self.sent = true
  local parts = self.parts
  return sent(http_respond(self.conn, self.code, self.headers,
    #parts == 1 and parts[1] or concat(parts), LENGTH, self.close, self.head))
end

local ERRORS = {
  [400] = "bad request", [413] = "request entity too large",
  [431] = "request header fields too large", [500] = "internal server error",
  [501] = "not implemented", [505] = "http version not supported",
}

local function fail(conn, status)
  http_respond(conn, status, { "Content-Type", "text/plain" },
    (ERRORS[status] or "error") .. "\n", LENGTH, true)
end

-- A handler's error goes to opts.onerror, else lugo.onerror, else stderr;
-- the server goes on either way.
local function report(srv, err)
  local onerror = srv.onerror or core.onerror()
  if not (onerror and pcall(onerror, err)) then
    io.stderr:write("lugo.http: handler error: ", tostring(err), "\n")
  end
end

-- One connection: requests in order (pipelined ones too) until either
-- side closes, the client stays idle too long, or a request is bad. The
-- response object is reused from request to request: less garbage.
local function serve_conn(srv, conn)
  srv.conns[conn] = true
  -- The state sets the idle timeout before each request, the read
  -- timeout once its first byte is in.
  local state = http_state("request", srv.max_head, srv.max_body,
    srv.read_timeout, srv.idle_timeout)
  local res = setmetatable({ conn = conn, headers = {}, parts = {} }, res_mt)
  local handler = srv.handler
  while not srv.closed do
    local method, path, query, version, keep, rheaders, body, cont =
      read_request(state, conn)
    if not method then
      if type(path) == "number" then fail(conn, path) end
      break
    end
    local req = setmetatable({ method = method, path = path, query = query,
      version = version, keepalive = keep, headers = rheaders,
      rawbody = body, expect_continue = cont }, req_mt)
    local headers, parts = res.headers, res.parts
    for i = #headers, 1, -1 do headers[i] = nil end
    for i = #parts, 1, -1 do parts[i] = nil end
    res.code, res.size, res.sent, res.finished = 200, 0, nil, nil
    res.close, res.head, res.chunkable = not keep, method == "HEAD",
      version >= 1.1
    local ok, herr = xpcall(handler, traceback, req, res)
    if not ok then
      report(srv, herr)
      if res.sent then break end  -- half a response: only closing is honest
      res.headers, res.close, keep = { "Content-Type", "text/plain" }, true, false
      res.code, res.parts, res.size = 500, { "internal server error\n" }, 22
      res.finished = nil
    end
    if not res.finished then
      local fok = res:finish()
      if not fok then break end
    end
    if not keep then break end
  end
  srv.conns[conn] = nil
  conn:close()
end

local server_methods = {}
local server_mt = { __name = "lugo.http.server", __index = server_methods }

--- Stop accepting and close every connection, as Go's Server.Close:
-- a handler still running finds its writes failing with "closed".
function server_methods:close()
  self.closed = true
  self.listener:close()
  for conn in pairs(self.conns) do conn:close() end
end

function server_methods:addr()
  return self.listener:addr()
end

local http = {}

--- Serve HTTP/1.1: opts.host ("127.0.0.1"), opts.port (0: any free one),
-- opts.handler(req, res); opts.max_head, opts.max_body (bytes),
-- opts.idle_timeout (s, between requests, default 60),
-- opts.read_timeout (s, for a request's bytes once begun, default 30),
-- opts.onerror(err) for handler errors (default: stderr). Returns the
-- server, or nil, err.
-- A "module.function" name as a function, or nil, err.
local resolve = core.resolve

local serve_procs

function http.serve(opts)
  if type(opts) ~= "table" then
    error("bad argument #1 to 'serve' (table expected, got " .. type(opts) .. ")", 2)
  end
  if opts.procs ~= nil and opts.procs ~= 1 then return serve_procs(opts) end
  if type(opts.handler) == "string" then
    local fn, err = resolve(opts.handler)
    if not fn then error("lugo.http.serve: " .. err, 2) end
    opts = setmetatable({ handler = fn }, { __index = opts })
  end
  if type(opts.handler) ~= "function" then
    error("lugo.http.serve: opts.handler must be a function", 2)
  end
  local ln, err = tcp.listen(opts.host or "127.0.0.1", opts.port or 0,
    { backlog = opts.backlog, reuseport = opts.reuseport })
  if not ln then return nil, err end
  local srv = setmetatable({
    listener = ln, handler = opts.handler, onerror = opts.onerror,
    conns = setmetatable({}, { __mode = "k" }),
    max_head = opts.max_head, max_body = opts.max_body,
    idle_timeout = opts.idle_timeout or 60,
    read_timeout = opts.read_timeout or 30,
  }, server_mt)
  local go = require("lugo").go
  go(function()
    while true do
      local conn = ln:accept()
      if not conn then break end
      go(serve_conn, srv, conn)
    end
  end)
  return srv
end

--- One processor's part of a server on several: serve with SO_REUSEPORT
-- until `stop` is closed. Spawned by name on each processor.
function http.serve_here(opts, stop)
  local srv, err = http.serve(opts)
  if not srv then error("lugo.http.serve on processor " ..
    require("lugo.core").pid() .. ": " .. tostring(err), 0) end
  stop:recv()
  srv:close()
end

-- opts.procs = n: a listener on each of n processors, the same port
-- through SO_REUSEPORT, so the kernel spreads connections over them. The
-- handler must be a "module.function" name: a function cannot be shared
-- by Lua states. P0 listens first, so port 0 still means one free port.
function serve_procs(opts)
  local lugo = require "lugo"
  local n = opts.procs
  if type(n) ~= "number" or n < 1 or n % 1 ~= 0 then
    error("lugo.http.serve: opts.procs must be a positive integer", 3)
  end
  if n > lugo.procs() then
    error(("lugo.http.serve: opts.procs is %d but there are %d processors " ..
      "(set lugo.procs first)"):format(n, lugo.procs()), 3)
  end
  if type(opts.handler) ~= "string" then
    error("lugo.http.serve: with opts.procs, opts.handler must be a " ..
      "\"module.function\" name (each processor loads it)", 3)
  end
  local copy = {}
  for k, v in pairs(opts) do copy[k] = v end
  copy.procs, copy.reuseport = nil, true
  local srv, err = http.serve(copy)
  if not srv then return nil, err end
  local _, port = srv:addr()
  copy.port = port
  local stop = lugo.chan(0, { shared = true })
  for pid = 1, n - 1 do
    require("lugo.core").spawnon(pid, "lugo.http.serve_here", copy, stop)
  end
  local close = srv.close
  srv.close = function(self)
    if not self.closed then stop:close() end  -- every processor stops
    return close(self)
  end
  return srv
end

---------------------------------------------------------------- client

local function parse_url(url)
  local scheme, rest = url:match("^(%a[%w+.-]*)://(.*)$")
  if scheme ~= "http" then return nil, "unsupported url: " .. url end
  local authority, target = rest:match("^([^/?#]*)(.*)$")
  local host, port = authority:match("^%[(.-)%]:?(%d*)$")
  if not host then host, port = authority:match("^([^:]*):?(%d*)$") end
  if not host or host == "" then return nil, "bad url: " .. url end
  target = target:gsub("#.*$", "")
  if target == "" or target:sub(1, 1) == "?" then target = "/" .. target end
  return host, tonumber(port) or 80, target, authority
end

--- opts.url, opts.method ("GET"), opts.headers (a table), opts.body,
-- opts.timeout (s, for connecting and for each read and write), opts.max_body.
-- Returns { status =, headers =, body = }, or nil, err.
function http.request(opts)
  if type(opts) == "string" then opts = { url = opts } end
  if type(opts) ~= "table" or type(opts.url) ~= "string" then
    error("bad argument #1 to 'request' (table with a url expected)", 2)
  end
  local host, port, target, authority = parse_url(opts.url)
  if not host then return nil, port end
  local method = opts.method or "GET"
  local conn, err = tcp.connect(host, port, { timeout = opts.timeout })
  if not conn then return nil, err end
  conn:settimeout(opts.timeout)
  local hdrs, has_host = {}, false
  for k, v in pairs(opts.headers or {}) do
    hdrs[#hdrs + 1], hdrs[#hdrs + 2] = k, tostring(v)
    has_host = has_host or k:lower() == "host"
  end
  if not has_host then hdrs[#hdrs + 1], hdrs[#hdrs + 2] = "Host", authority end
  local ok, werr = sent(http_request(conn, method, target, hdrs, opts.body))
  if not ok then
    conn:close()
    return nil, werr
  end
  local state = http_state(method == "HEAD" and "head" or "response",
    nil, opts.max_body or 2 ^ 53)
  local status, headers, body
  repeat  -- skip 1xx interim responses
    status, headers, body = read_response(state, conn)
  until not status or status >= 200
  conn:close()
  if not status then  -- headers holds the error
    if type(headers) == "number" then
      return nil, "bad response (" .. headers .. ")"
    end
    return nil, headers
  end
  return { status = status, headers = headers, body = body }
end

return http
