-- HTTP hello: a small content-distribution API. GET /content/<id>
-- answers a JSON description of the item and the CDN edge that serves it;
-- anything else is a 404 (or a 405 for another method). The script starts
-- the server on a free port, asks it a few questions with
-- lugo.http.request, prints the answers and closes the server.
--
--   bin/lugo examples/http_hello.lua                run the demo and exit
--   bin/lugo examples/http_hello.lua --serve [port] keep serving (default
--       port 8080) until Ctrl-C:  curl -i http://127.0.0.1:8080/content/42
local lugo = require "lugo"

local catalog = {
  ["42"] = { title = "The Answer", ttl = 300 },
  ["7"] = { title = "Seven \"Samurai\"", ttl = 60 },
  ["1001"] = { title = "Nights", ttl = 3600 },
}
local edges = { "edge-1", "edge-2", "edge-3" }

-- JSON by hand: a string with the characters JSON requires escaped.
local function json_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    local named = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n",
                    ["\r"] = "\\r", ["\t"] = "\\t" }
    return named[c] or ("\\u%04x"):format(c:byte())
  end) .. '"'
end

-- The edge for an id: a stable pick, so caches stay warm.
local function edge_for(id)
  local h = 0
  for i = 1, #id do h = (h * 31 + id:byte(i)) % 65536 end
  return edges[h % #edges + 1]
end

local function handler(req, res)
  local id = req.path:match("^/content/([^/]+)$")
  local item = id and catalog[id]
  res:header("Content-Type", "application/json")
  if not item then
    res:status(404)
    return res:finish('{"error":"not found","path":' .. json_string(req.path) .. '}\n')
  end
  if req.method ~= "GET" and req.method ~= "HEAD" then
    res:status(405):header("Allow", "GET, HEAD")
    return res:finish('{"error":"method not allowed"}\n')
  end
  res:header("Cache-Control", "max-age=" .. item.ttl)
  res:finish(('{"id":%s,"title":%s,"cdn":%s,"ttl":%d}\n'):format(
    json_string(id), json_string(item.title), json_string(edge_for(id)),
    item.ttl))
end

if arg[1] == "--serve" then
  local port = tonumber(arg[2]) or 8080
  local srv = assert(lugo.http.serve{ host = "127.0.0.1", port = port,
                                      handler = handler })
  print(("serving on http://%s:%d/content/42 (Ctrl-C to stop)"):format(srv:addr()))
  local sigint, stop = lugo.signal("SIGINT")
  sigint:recv()
  stop()
  srv:close()
  print("\nstopped")
  return
end

-- The demo: port 0 lets the system pick a free port.
local srv = assert(lugo.http.serve{ host = "127.0.0.1", port = 0, handler = handler })
local host, port = srv:addr()
local base = ("http://%s:%d"):format(host, port)
print("serving on " .. base)

-- The requests go out concurrently, one goroutine each; the answers are
-- printed in the order asked.
local asks = {
  { method = "GET", path = "/content/42" },
  { method = "GET", path = "/content/7" },
  { method = "GET", path = "/content/1001?lang=en" },
  { method = "GET", path = "/content/99" },
  { method = "GET", path = "/nope" },
  { method = "DELETE", path = "/content/42" },
}
local answers, wg = {}, lugo.waitgroup()
for i, ask in ipairs(asks) do
  wg:add(1)
  lugo.go(function()
    local res, err = lugo.http.request{ method = ask.method, url = base .. ask.path,
                                        timeout = 2 }
    answers[i] = res and ("%d %s"):format(res.status, res.body:gsub("\n$", ""))
                 or ("error: " .. err)
    if res and res.headers["cache-control"] then
      answers[i] = answers[i] .. "  (cache-control: " .. res.headers["cache-control"] .. ")"
    end
    wg:done()
  end)
end
wg:wait()
for i, ask in ipairs(asks) do
  print(("%-6s %-22s -> %s"):format(ask.method, ask.path, answers[i]))
end

srv:close()
