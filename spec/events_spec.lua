describe("lugo.signal, lugo.fs", function()
  local h = require "spec.helper"
  local lugo = h.lugo

  local function pid()
    local f = assert(io.open("/proc/self/stat"))
    local id = f:read("*l"):match("^(%d+)")
    f:close()
    return id
  end

  -- Receive from ch, giving up after sec: i (1: got it), v.
  local function within(ch, sec)
    local t = lugo.timer(sec)
    local i, v = lugo.select { { "recv", ch }, { "recv", t.c } }
    t:stop()
    return i, v
  end

  local function tmpname()
    local name = os.tmpname()
    os.remove(name)
    return name
  end

  describe("lugo.signal()", function()
    it("delivers the signal's name on its channel", function()
      local ch, stop = lugo.signal("SIGUSR1")
      os.execute("kill -USR1 " .. pid())
      local i, v = within(ch, 2)
      assert.equal(1, i)
      assert.equal("SIGUSR1", v)
      stop()
      stop()  -- twice is fine
    end)

    it("is not a deadlock to wait for one", function()
      local ch, stop = lugo.signal("SIGUSR2")
      lugo.go(function()
        lugo.sleep(0.02)
        os.execute("kill -USR2 " .. pid())
      end)
      assert.equal("SIGUSR2", ch:recv())
      stop()
    end)

    it("rejects an unknown signal name", function()
      h.raises("unknown signal 'SIGNOPE'", function() lugo.signal("SIGNOPE") end)
      h.raises("string expected", function() lugo.signal() end)
    end)
  end)

  describe("lugo.fs", function()
    it("writes and reads a whole file", function()
      local name = tmpname()
      local data = string.rep("line\n", 100000)
      assert.is_true(lugo.fs.writefile(name, data))
      assert.is_true(data == lugo.fs.readfile(name))
      assert.is_true(lugo.fs.writefile(name, ""))
      assert.equal("", lugo.fs.readfile(name))
      os.remove(name)
    end)

    it("returns nil, err for a file that is not there", function()
      local data, err = lugo.fs.readfile("/nonexistent/dir/file")
      assert.is_nil(data)
      assert.matches("no such file", err)
      local ok, werr = lugo.fs.writefile("/nonexistent/dir/file", "x")
      assert.is_nil(ok)
      assert.matches("no such file", werr)
    end)

    it("reads files whose size stat does not know", function()
      local data = assert(lugo.fs.readfile("/proc/self/status"))
      assert.matches("Pid:", data)
    end)

    it("rejects a non-string body", function()
      h.raises("string expected", function() lugo.fs.writefile(tmpname(), 42) end)
    end)

    it("watches a file for changes", function()
      local name = tmpname()
      assert(lugo.fs.writefile(name, "v1"))
      local ch, stop = assert(lugo.fs.watch(name))
      lugo.go(function()
        lugo.sleep(0.02)
        assert(lugo.fs.writefile(name, "v2"))
      end)
      local i, ev = within(ch, 2)
      assert.equal(1, i)
      assert.equal("change", ev.event)
      assert.equal(name, ev.path)
      stop()
      os.remove(name)
      lugo.run()
    end)

    it("returns nil, err for a path that cannot be watched", function()
      local ch, err = lugo.fs.watch("/nonexistent/dir")
      assert.is_nil(ch)
      assert.is_string(err)
    end)
  end)
end)
