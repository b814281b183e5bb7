--- LuaJIT fast paths. A call through the classic C API is never compiled
-- by LuaJIT and costs more than the channel operation itself, so on LuaJIT
-- ch:send, ch:recv, ch:trysend, ch:tryrecv and select call the core's
-- operations through the FFI, which traces compile to a plain call. When
-- the core has queued the goroutine, core.park() (a C API call) parks it;
-- errors and odd input fall back to the C API functions, which raise.
--
-- Values cross as the core's lg_value_t: numbers and booleans inline,
-- anything else as a slot number of the processor's slot table (the same
-- table and free list the C side uses). Shared channels take the fast way
-- for numbers and booleans; what they deliver encoded (LG_VBLOB) is
-- decoded by core._takeblob, and other values go through the C API,
-- which encodes them.
--
-- A local channel's ring is read and written here without any call when
-- no goroutine waits on it and the ring has room (or a value): the
-- common buffered case. That mirrors the core's struct lg_chan_s, so it
-- is installed only when lg_chan_layout reports the layout mirrored here.
local ffi = require "ffi"
local core = require "lugo.core"

ffi.cdef [[
typedef struct lugo_value {
  int type;
  union { int b; int64_t i; double n; uint32_t ref; void *blob; } u;
} lugo_value;
typedef struct lugo_chanud { const void *magic; void *c; void *b; } lugo_chanud;
typedef struct lugo_scase { void *c; int dir; lugo_value val; } lugo_scase;
int lg_chan_trysend(void *c, lugo_value *v);
int lg_chan_send(void *c, void *g, lugo_value *v);
int lg_chan_recv(void *c, void *g, lugo_value *v);
void *lgb_ffi_curg(void *b);
int lg_select(void *p, void *g, lugo_scase *cases, int n, int block,
              int *chosen, lugo_value *v, int *ok);
int lg_chan_tryrecv(void *c, lugo_value *v);
uint32_t lgb_ffi_ref(void *b);
void lgb_ffi_unref(void *b, uint32_t slot);
int lg_chan_layout(size_t *off, int n);
typedef struct lugo_waitq {
  void *first, *last, *onleave, *lock, *owner;
} lugo_waitq;
]]

local getmetatable, type, tonumber = getmetatable, type, tonumber
local cast = ffi.cast

-- The module is loaded already; loading it again by path gives the same
-- library, so the symbols are the ones the C API uses.
local path = package.searchpath and package.searchpath("lugo.core", package.cpath)
if not path then return false end
local ok, C = pcall(ffi.load, path)
if not ok then return false end

local VNIL, VBOOL, VINT, VNUM, VREF, VBLOB = 0, 1, 2, 3, 4, 5
local OK, EAGAIN, ECLOSED, PARKED = 0, -10001, -10002, 1  -- core/lugo.h
local park = core.park
local chanud_p = ffi.typeof("lugo_chanud *")
local slots = core.slots
local chan_mt = getmetatable(core.chan())
local shared_mt = getmetatable(core.chan(0, { shared = true }))
local takeblob = core._takeblob
local uintptr = ffi.typeof("uintptr_t")
local sv, rv = ffi.new("lugo_value"), ffi.new("lugo_value")
local MAXCASES = 64
local scases = ffi.new("lugo_scase[?]", MAXCASES)
local chosen, okp = ffi.new("int[1]"), ffi.new("int[1]")

--- The channel type mirroring core/chan.c's struct lg_chan_s up to sendq,
-- or nil when the core's layout is not the one mirrored here.
local function chantype()
  local fields = { "shared", "closed", "cap", "count", "head", "bufcap",
                   "buf", "recvq", "sendq" }  -- lugo_waitq's first is first
  local off = ffi.new("size_t[?]", #fields + 1)
  if C.lg_chan_layout(off, #fields + 1) ~= #fields + 1 then return nil end
  local hdr = tonumber(off[0])  -- the core's own header, opaque here
  ffi.cdef(([[
typedef struct lugo_chan {
  char hdr[%d];
  int shared, closed;
  size_t cap, count, head, bufcap;
  lugo_value *buf;
  lugo_waitq recvq, sendq;
} lugo_chan;
]]):format(hdr))
  for i, f in ipairs(fields) do
    if ffi.offsetof("lugo_chan", f) ~= tonumber(off[i - 1]) then return nil end
  end
  if ffi.sizeof("lugo_value") ~= tonumber(off[#fields]) then return nil end
  return ffi.typeof("lugo_chan *")
end
local chan_p = chantype()

--- A number or boolean into the lugo_value d, for a shared channel:
-- true, or false when the value needs encoding (the C API does that).
local function inline(v, d)
  local tv = type(v)
  if tv == "number" then
    d.type, d.u.n = VNUM, v
    return true
  elseif tv == "boolean" then
    d.type, d.u.b = VBOOL, v and 1 or 0
    return true
  end
  return false
end

--- Put v into the lugo_value d. Returns the slot taken, 0 for none,
-- false when the value cannot go the fast way (nil, or no slot to be had).
local function encode(b, v, d)
  if inline(v, d) then return 0 end
  if v == nil then return false end
  local s = C.lgb_ffi_ref(b)
  if s == 0 then return false end
  slots[s] = v
  d.type, d.u.ref = VREF, s
  return s
end

local function unslot(b, s)
  slots[s] = nil
  C.lgb_ffi_unref(b, s)
end

--- The value in the lugo_value d, taking it out of its slot.
local function decode(b, d)
  local t = d.type
  if t == VNUM then return d.u.n end
  if t == VREF then
    local s = d.u.ref
    local v = slots[s]
    unslot(b, s)
    return v
  end
  if t == VBOOL then return d.u.b ~= 0 end
  if t == VINT then return tonumber(d.u.i) end
  if t == VBLOB then return takeblob(tonumber(cast(uintptr, d.u.blob))) end
  return nil
end

--- Wrap the send and receive methods of `m` with the ring fast path: a
-- local channel's ring is used here as core/chan.c's trysend and tryrecv
-- use it when no goroutine waits on the other side. Anything else (a
-- waiting goroutine, a full ring or one still to grow, a closed channel,
-- nil, a shared channel) goes on to the methods wrapped.
local function ring(m)
  local send, recv, trysend, tryrecv = m.send, m.recv, m.trysend, m.tryrecv

  --- Append v to the ring of ch: true, or false when ch is not a local
  -- channel or the core must decide.
  local function put(ch, v)
    if getmetatable(ch) ~= chan_mt then return false end
    local u = cast(chanud_p, ch)
    local c = cast(chan_p, u.c)
    local n, size = c.count, c.bufcap
    -- Growing the ring is left to the core: n < bufcap, not n < cap.
    if c.closed ~= 0 or c.recvq.first ~= nil or n >= size then return false end
    local i = c.head + n
    if i >= size then i = i - size end
    if not encode(u.b, v, c.buf[i]) then return false end  -- nil, or no slot
    c.count = n + 1
    return true
  end

  --- Take the head of the ring of ch: v, true, or nothing when ch is not
  -- a local channel or the core must decide (a sender waits: its value takes
  -- the freed place, in order). The slot keeps its value until a later
  -- send, so it is decoded in place. (Only a __gc metamethod sending on
  -- this same full channel while the interpreter decodes could overwrite
  -- it first; the C path's shared rv has the same window for one that
  -- receives.)
  local function take(ch)
    if getmetatable(ch) ~= chan_mt then return end
    local u = cast(chanud_p, ch)
    local c = cast(chan_p, u.c)
    local n = c.count
    if n == 0 or c.sendq.first ~= nil then return end
    local h = c.head
    c.head = h + 1 < c.bufcap and h + 1 or 0
    c.count = n - 1
    return decode(u.b, c.buf[h]), true
  end

  function m.send(ch, v)
    if not put(ch, v) then return send(ch, v) end
  end

  function m.trysend(ch, v)
    return put(ch, v) or trysend(ch, v)
  end

  function m.recv(ch)
    local v, ok = take(ch)
    if ok then return v, ok end
    return recv(ch)
  end

  function m.tryrecv(ch)
    local v, ok = take(ch)
    if ok then return v, ok end
    return tryrecv(ch)
  end
end

--- Wrap the C API methods of `m` (the channel methods) and `lugo`'s select
-- with fast paths; `check` raises the error a wake-up carries.
return function(m, lugo, check)
  local csend, crecv, ctrysend, ctryrecv = m.send, m.recv, m.trysend, m.tryrecv

  function m.send(ch, v)
    local mt = getmetatable(ch)
    if mt == shared_mt and inline(v, sv) then
      local u = cast(chanud_p, ch)
      local rc = C.lg_chan_trysend(u.c, sv)
      if rc == EAGAIN then rc = C.lg_chan_send(u.c, C.lgb_ffi_curg(u.b), sv) end
      if rc == OK then return end
      if rc == PARKED then return check(park()) end
    elseif mt == chan_mt then
      local u = cast(chanud_p, ch)
      local b = u.b
      local s = encode(b, v, sv)
      if s then
        -- Try first: a buffered send needs no goroutine, one call less.
        local rc = C.lg_chan_trysend(u.c, sv)
        if rc == EAGAIN then rc = C.lg_chan_send(u.c, C.lgb_ffi_curg(b), sv) end
        if rc == OK then return end
        if rc == PARKED then return check(park()) end
        if s > 0 then unslot(b, s) end
      end
    end
    return csend(ch, v)
  end

  function m.recv(ch)
    local mt = getmetatable(ch)
    if mt == chan_mt or mt == shared_mt then
      local u = cast(chanud_p, ch)
      local b = u.b
      local rc = C.lg_chan_tryrecv(u.c, rv)
      if rc == EAGAIN then rc = C.lg_chan_recv(u.c, C.lgb_ffi_curg(b), rv) end
      if rc == OK then return decode(b, rv), true end
      if rc == ECLOSED then return nil, false end
      if rc == PARKED then return park() end
    end
    return crecv(ch)
  end

  function m.trysend(ch, v)
    local mt = getmetatable(ch)
    if mt == shared_mt and inline(v, sv) then
      local rc = C.lg_chan_trysend(cast(chanud_p, ch).c, sv)
      if rc == OK then return true end
      if rc == EAGAIN then return false end
    elseif mt == chan_mt then
      local u = cast(chanud_p, ch)
      local s = encode(u.b, v, sv)
      if s then
        local rc = C.lg_chan_trysend(u.c, sv)
        if rc == OK then return true end
        if s > 0 then unslot(u.b, s) end
        if rc == EAGAIN then return false end
      end
    end
    return ctrysend(ch, v)  -- raises what needs raising
  end

  function m.tryrecv(ch)
    local mt = getmetatable(ch)
    if mt == chan_mt or mt == shared_mt then
      local u = cast(chanud_p, ch)
      local rc = C.lg_chan_tryrecv(u.c, rv)
      if rc == OK then return decode(u.b, rv), true end
      if rc == ECLOSED then return nil, false end
      return nil, nil
    end
    return ctryrecv(ch)
  end

  -- select: poll every case without blocking through the FFI (the core's
  -- selectgo, random order included); only a select that must wait, or
  -- one the fast path cannot read, goes through the C API.
  local cselect = lugo.select
  function lugo.select(cases)
    local n = type(cases) == "table" and #cases or MAXCASES + 1
    if n == 0 or n > MAXCASES then return cselect(cases) end
    local b
    for i = 1, n do  -- check every case before taking any value
      local cs, sc = cases[i], scases[i - 1]
      if type(cs) ~= "table" then return cselect(cases) end
      local ch, op = cs[2], cs[1]
      if op == "recv" then
        sc.dir = 1
      elseif op == "send" then
        sc.dir = 2
        if ch ~= nil and cs[3] == nil then return cselect(cases) end
      else
        return cselect(cases)
      end
      if ch == nil then
        sc.c = nil
      elseif getmetatable(ch) == chan_mt then
        local u = cast(chanud_p, ch)
        sc.c, b = u.c, u.b
      else
        return cselect(cases)
      end
    end
    if b == nil then return cselect(cases) end  -- no channel at all
    for i = 1, n do
      local sc = scases[i - 1]
      if sc.dir == 2 and sc.c ~= nil then
        if not encode(b, cases[i][3], sc.val) then
          for k = 0, i - 2 do  -- give back the slots taken so far
            local val = scases[k].val
            if scases[k].dir == 2 and scases[k].c ~= nil and val.type == VREF then
              unslot(b, val.u.ref)
            end
          end
          return cselect(cases)
        end
      end
    end
    -- lg_select owns the send values from here: what it does not send it
    -- gives back to the slot free list.
    local block = not cases.default
    local rc = C.lg_select(b, C.lgb_ffi_curg(b), scases, n, block and 1 or 0,
                           chosen, rv, okp)
    if rc == OK then
      local i = chosen[0]
      if scases[i].dir == 2 then return i + 1 end
      return i + 1, decode(b, rv), okp[0] ~= 0
    end
    if rc == PARKED then return check(park()) end
    if rc == EAGAIN then return nil end
    return cselect(cases)  -- raise what needs raising
  end

  if chan_p then ring(m) end
end
