-- Config hot reload: a worker serves with the current config while a
-- reloader watches the config file (lugo.fs.watch) and, on each change,
-- reads and parses it and swaps the config in one assignment. Readers
-- hold on to the table they took, so nobody ever sees half of one config
-- and half of another. Here a third goroutine rewrites the file twice;
-- in real life you edit it. SIGHUP (lugo.signal) also forces a reload,
-- as daemons do: the script ends by sending itself one.
--
--   bin/lugo examples/reload.lua
local lugo = require "lugo"

local path = os.tmpname()

-- key = value lines; "#" starts a comment; numbers become numbers.
-- Returns the table, or nil and what is wrong.
local function parse(text)
  local cfg = {}
  local n = 0
  for line in text:gmatch("[^\n]+") do
    n = n + 1
    line = line:gsub("#.*", "")
    if line:find("%S") then
      local k, v = line:match("^%s*([%a_][%w_]*)%s*=%s*(.-)%s*$")
      if not k then return nil, ("line %d: expected key = value"):format(n) end
      cfg[k] = tonumber(v) or v
    end
  end
  -- A file caught while being written is cut short: insist on the keys.
  for _, k in ipairs{ "version", "greeting", "interval" } do
    if cfg[k] == nil then return nil, "missing " .. k end
  end
  return cfg
end

local function load(file)
  local text, err = lugo.fs.readfile(file)
  if not text then return nil, err end
  return parse(text)
end

local function write(version, greeting, interval)
  assert(lugo.fs.writefile(path, ("# written at %.2f\nversion = %d\ngreeting = %s\ninterval = %g\n")
    :format(lugo.now() % 100, version, greeting, interval)))
end

write(1, "hello", 0.1)
local config = assert(load(path))  -- the current config: swapped, never edited
print(("loaded version %d from %s"):format(config.version, path))

local done = lugo.chan()  -- closed to stop the goroutines

-- The worker: each "request" takes the config once and uses only that.
local wg = lugo.waitgroup()
wg:add(1)
lugo.go(function()
  local n = 0
  while true do
    local cfg = config
    n = n + 1
    print(("worker: request %d: %s, world (config version %d)"):format(
      n, cfg.greeting, cfg.version))
    local i = lugo.select{ { "recv", done }, { "recv", lugo.after(cfg.interval) } }
    if i == 1 then break end
  end
  wg:done()
end)

-- The reloader. A write can show up as several events (the truncation,
-- then the data), so after the first one it waits a little for the
-- others, then reads the file once. A config that does not parse is
-- reported and the old one kept.
local events, stop = assert(lugo.fs.watch(path))
local hup, stop_hup = lugo.signal("SIGHUP")
local reloaded = lugo.chan(10)  -- tells main about each reload
wg:add(1)
lugo.go(function()
  while true do
    local i = lugo.select{ { "recv", done }, { "recv", events }, { "recv", hup } }
    if i == 1 then break end
    local why = i == 2 and "file changed" or "SIGHUP"
    if i == 2 then
      local settle = lugo.after(0.05)
      while lugo.select{ { "recv", events }, { "recv", settle } } == 1 do end
    end
    local new, err = load(path)
    if not new then
      print(("reloader (%s): kept version %d: %s"):format(why, config.version, err))
    elseif new.version ~= config.version then
      local old = config
      config = new  -- the swap
      print(("reloader (%s): version %d -> %d: greeting %q -> %q, interval %g -> %g")
        :format(why, old.version, new.version, old.greeting, new.greeting,
                 old.interval, new.interval))
    else
      print(("reloader (%s): version %d unchanged"):format(why, new.version))
    end
    reloaded:send(why)
  end
  wg:done()
end)

-- The editor: two rewrites, 0.35 s apart.
lugo.go(function()
  lugo.sleep(0.35)
  print("editor: writing version 2")
  write(2, "bonjour", 0.2)
  lugo.sleep(0.35)
  print("editor: writing version 3")
  write(3, "hola", 0.05)
end)

-- Wait for a reload (or give up after 3 s).
local function wait_reload()
  local i = lugo.select{ { "recv", reloaded }, { "recv", lugo.after(3) } }
  if i == 2 then print("main: no reload within 3 s") end
end
wait_reload()
wait_reload()
lugo.sleep(0.2)

-- SIGHUP to ourselves: the first field of /proc/self/stat is our pid.
-- (os.execute blocks the whole processor while kill runs: fine here.)
local pid = assert(lugo.fs.readfile("/proc/self/stat")):match("^%d+")
print("main: kill -HUP " .. pid)
os.execute("kill -HUP " .. pid)
wait_reload()

stop()       -- no more events (the channels stay open, as in Go)
stop_hup()
done:close() -- ends the worker and the reloader
wg:wait()
os.remove(path)
print("final config: version " .. config.version .. ", greeting " .. config.greeting)
