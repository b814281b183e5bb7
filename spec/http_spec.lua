describe("lugo.http", function()
  local h = require "spec.helper"
  local lugo = h.lugo

  -- A server for one spec: returns it and its base URL. It is closed
  -- when the spec ends, however it ends, so a failure does not leave a
  -- listener behind for the specs after it.
  local function serve(handler, opts)
    opts = opts or {}
    opts.port, opts.handler = 0, handler
    local srv = assert(lugo.http.serve(opts))
    local _, port = srv:addr()
    finally(function()
      srv:close()
      pcall(lugo.run)
    end)
    return srv, "http://127.0.0.1:" .. port, port
  end

  local function hello(req, res)
    res:header("Content-Type", "text/plain")
    res:finish(req.method .. " " .. req.path .. "?" .. req.query .. " " .. #req:body())
  end

  -- Raw bytes to the server; everything it answers until it closes.
  local function raw(port, bytes, timeout)
    local c = assert(lugo.tcp.connect("127.0.0.1", port))
    c:settimeout(timeout or 2)
    c:send(bytes)
    local all, err, partial = c:receive("*a")
    c:close()
    return all or partial, err
  end

  -- Run a shell command off the P's thread: its output.
  local function sh(cmd)
    local out = os.tmpname()
    local done = lugo.chan(1)
    lugo.go(function()
      -- os.execute would block the P; run it in the background and poll.
      os.execute("(" .. cmd .. " > " .. out .. " 2>&1; echo $? > " .. out .. ".rc) &")
      while not io.open(out .. ".rc") do lugo.sleep(0.01) end
      lugo.sleep(0.01)
      done:send(assert(lugo.fs.readfile(out)))
    end)
    local text = done:recv()
    os.remove(out)
    os.remove(out .. ".rc")
    return text
  end

  describe("serve and request", function()
    it("answers a GET with status, headers and body", function()
      local srv, url = serve(hello)
      local r = assert(lugo.http.request { url = url .. "/a/b?x=1&y=2" })
      assert.equal(200, r.status)
      assert.equal("text/plain", r.headers["content-type"])
      assert.equal("GET /a/b?x=1&y=2 0", r.body)
      srv:close()
      lugo.run()
    end)

    it("passes a request body and lower-cased headers", function()
      local srv, url = serve(function(req, res)
        res:status(201)
        res:header("X-Echo", req.headers["x-custom"])
        res:finish(req:body())
      end)
      local r = assert(lugo.http.request {
        url = url .. "/p", method = "POST", body = "payload",
        headers = { ["X-Custom"] = "yes" },
      })
      assert.equal(201, r.status)
      assert.equal("yes", r.headers["x-echo"])
      assert.equal("payload", r.body)
      srv:close()
      lugo.run()
    end)

    it("streams a large response in chunks and takes a 10 MB body", function()
      local big = string.rep("0123456789", 1024 * 1024)
      local srv, url = serve(function(req, res)
        for i = 1, #big, 100000 do res:write(big:sub(i, i + 99999)) end
        res:finish(tostring(#req:body()))
      end, { max_body = 20 * 1024 * 1024 })
      local r = assert(lugo.http.request { url = url, method = "PUT", body = big })
      assert.equal(200, r.status)
      assert.equal("chunked", r.headers["transfer-encoding"])
      assert.equal(#big + 8, #r.body)
      assert.is_true(r.body:sub(1, #big) == big)
      assert.equal(tostring(#big), r.body:sub(#big + 1))
      srv:close()
      lugo.run()
    end)

    it("answers HEAD without a body", function()
      local srv, url = serve(hello)
      local r = assert(lugo.http.request { url = url .. "/h", method = "HEAD" })
      assert.equal(200, r.status)
      assert.equal("", r.body)
      assert.equal(tostring(#"HEAD /h? 0"), r.headers["content-length"])
      srv:close()
      lugo.run()
    end)

    it("turns a handler error into a 500 and keeps serving", function()
      local errs = {}
      local srv, url = serve(function(req, res)
        if req.path == "/boom" then error("kaboom") end
        res:finish("fine")
      end, { onerror = function(e) errs[#errs + 1] = e end })
      local r = assert(lugo.http.request { url = url .. "/boom" })
      assert.equal(500, r.status)
      assert.equal(1, #errs)
      assert.matches("kaboom", errs[1])
      assert.equal("fine", assert(lugo.http.request { url = url .. "/ok" }).body)
      srv:close()
      lugo.run()
    end)

    it("returns nil, err for a port nobody listens on and for bad URLs", function()
      local srv, _, port = serve(hello)
      srv:close()
      lugo.run()
      local r, err = lugo.http.request { url = "http://127.0.0.1:" .. port .. "/" }
      assert.is_nil(r)
      assert.equal("refused", err)
      r, err = lugo.http.request { url = "ftp://x/" }
      assert.is_nil(r)
      assert.matches("unsupported url", err)
      h.raises("url expected", function() lugo.http.request {} end)
      h.raises("handler must be a function", function() lugo.http.serve {} end)
    end)

    it("takes a \"module.function\" handler and names what is wrong with one",
      function()
        local _, url = serve("spec.support.tasks.hello")
        local r = lugo.http.request { url = url .. "/" }
        assert.equal("hello from P0", r.body)
        h.raises([[lugo.http.serve: "hello" is not "module.function"]],
          function() lugo.http.serve { handler = "hello" } end)
        h.raises("lugo.http.serve: no function 'nope' in module 'string'",
          function() lugo.http.serve { handler = "string.nope" } end)
        h.raises("lugo.http.serve: module 'no.such' not found",
          function() lugo.http.serve { handler = "no.such.fn" } end)
      end)
  end)

  describe("res:header()", function()
    it("raises at once on a header that would break the framing", function()
      local raised
      local srv, url = serve(function(req, res)
        raised = select(2, pcall(res.header, res, "X-Bad", "a\r\nInjected: 1"))
        res:finish("ok")
      end)
      assert.equal("ok", assert(lugo.http.request { url = url }).body)
      assert.matches("must not hold CR", raised)
      srv:close()
      lugo.run()
    end)

    it("leaves Content-Length to lugo and honours Connection: close", function()
      local srv, _, port = serve(function(req, res)
        res:header("Content-Length", "3")
        res:header("Connection", "close")
        res:finish("abcdef")
      end)
      local out = raw(port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
      assert.equal(1, select(2, out:gsub("Content%-Length", "")))
      assert.matches("Content%-Length: 6", out)
      assert.matches("Connection: close", out)
      assert.matches("abcdef$", out)
      srv:close()
      lugo.run()
    end)
  end)

  describe("the wire", function()
    it("answers Expect: 100-continue before the body comes", function()
      local srv, _, port = serve(hello)
      local c = assert(lugo.tcp.connect("127.0.0.1", port))
      c:settimeout(2)
      c:send("POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
      assert.equal("HTTP/1.1 100 Continue", c:receive())
      assert.equal("", c:receive())
      c:send("12345")
      assert.equal("HTTP/1.1 200 OK", c:receive())
      c:close()
      srv:close()
      lugo.run()
    end)

    it("closes idle keep-alive connections when the server closes", function()
      local srv, url, port = serve(hello)
      local c = assert(lugo.tcp.connect("127.0.0.1", port))
      c:settimeout(2)
      c:send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
      assert.equal("HTTP/1.1 200 OK", c:receive())
      srv:close()
      local rest, err = c:receive("*a")  -- ends: the server closed its side
      assert.is_string(rest)
      assert.is_nil(err)
      c:close()
      lugo.run()
    end)

    it("keeps a connection alive and answers pipelined requests in order", function()
      local srv, _, port = serve(hello)
      local out = raw(port, "GET /1 HTTP/1.1\r\nHost: x\r\n\r\n"
        .. "GET /2 HTTP/1.1\r\nHost: x\r\n\r\n"
        .. "GET /3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
      local bodies = {}
      for b in out:gmatch("GET (/%d)") do bodies[#bodies + 1] = b end
      assert.same({ "/1", "/2", "/3" }, bodies)
      assert.equal(3, select(2, out:gsub("HTTP/1.1 200 OK", "")))
      srv:close()
      lugo.run()
    end)

    it("decodes a chunked request body", function()
      local srv, _, port = serve(hello)
      local out = raw(port, "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        .. "Connection: close\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: t\r\n\r\n")
      assert.matches("POST /c%? 11", out)
      srv:close()
      lugo.run()
    end)

    it("answers malformed requests with 400 and closes", function()
      local srv, _, port = serve(hello)
      for _, bad in ipairs {
        "NOT A REQUEST\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nBad Header: v\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      } do
        local out = raw(port, bad)
        assert.matches("^HTTP/1.1 400 Bad Request", out)
        assert.matches("Connection: close", out)
      end
      srv:close()
      lugo.run()
    end)

    it("enforces the head and body limits with 431 and 413", function()
      local srv, _, port = serve(hello, { max_head = 1024, max_body = 100 })
      local out = raw(port, "GET / HTTP/1.1\r\nHost: x\r\nX: " .. string.rep("a", 2000) .. "\r\n\r\n")
      assert.matches("^HTTP/1.1 431", out)
      out = raw(port, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n")
      assert.matches("^HTTP/1.1 413", out)
      srv:close()
      lugo.run()
    end)

    it("cuts a client that never finishes its headers at the read timeout", function()
      local srv, _, port = serve(hello, { idle_timeout = 5, read_timeout = 0.1 })
      local t0 = lugo.now()
      local out, err = raw(port, "GET / HTTP/1.1\r\nHost: x\r\n", 3)
      h.between(0.1, lugo.now() - t0, 1.5, "read timeout")
      assert.equal("", out)
      assert.is_nil(err)
      srv:close()
      lugo.run()
    end)

    it("closes a connection idle past the idle timeout", function()
      local srv, _, port = serve(hello, { idle_timeout = 0.1 })
      local c = assert(lugo.tcp.connect("127.0.0.1", port))
      local t0 = lugo.now()
      local data, err = c:receive("*a")
      h.between(0.1, lugo.now() - t0, 1.5, "idle timeout")
      assert.equal("", data)
      assert.is_nil(err)
      c:close()
      srv:close()
      lugo.run()
    end)

    it("is not disturbed by a client that resets mid-response", function()
      local big = string.rep("x", 4 * 1024 * 1024)
      local srv, url, port = serve(function(req, res) res:finish(big) end)
      local c = assert(lugo.tcp.connect("127.0.0.1", port))
      c:send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
      c:receive(10)
      c:close()  -- gone with most of the answer unread
      local r = assert(lugo.http.request { url = url })
      assert.equal(#big, #r.body)
      srv:close()
      lugo.run()
    end)
  end)

  describe("real clients", function()
    it("serves curl: GET, POST and keep-alive", function()
      local srv, url = serve(hello)
      local out = sh("curl -s " .. url .. "/a?b=c")
      assert.matches("^GET /a%?b=c 0", out)
      out = sh("curl -s -d 12345 " .. url .. "/post")
      assert.matches("^POST /post%? 5", out)
      out = sh("curl -sv " .. url .. "/1 " .. url .. "/2")
      assert.matches("Re%-using existing connection", out)
      srv:close()
      lugo.run()
    end)

    it("stands a short wrk load with no errors", function()
      local srv, url = serve(hello)
      local out = sh("wrk -t1 -c20 -d1s " .. url .. "/")
      local n = tonumber(out:match("(%d+) requests in"))
      assert.is_true(n and n > 1000, out)
      assert.is_nil(out:match("Non%-2xx"), out)
      assert.is_nil(out:match("Socket errors"), out)
      srv:close()
      lugo.run()
    end)
  end)
end)
