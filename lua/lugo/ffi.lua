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

--- A number or boolean into sv, for a shared channel: true, or false
-- when the value needs encoding (the C API does that).
local function inline(v)
  local tv = type(v)
  if tv == "number" then
    sv.type, sv.u.n = VNUM, v
    return true
  elseif tv == "boolean" then
    sv.type, sv.u.b = VBOOL, v and 1 or 0
    return true
  end
  return false
end

--- Put v into sv. Returns the slot taken, 0 for none, false when the
-- value cannot go the fast way (nil, or no slot to be had).
local function encode(b, v)
  if inline(v) then return 0 end
  if v == nil then return false end
  local s = C.lgb_ffi_ref(b)
  if s == 0 then return false end
  slots[s] = v
  sv.type, sv.u.ref = VREF, s
  return s
end

local function unslot(b, s)
  slots[s] = nil
  C.lgb_ffi_unref(b, s)
end

--- The value in rv, taking it out of its slot.
local function decode(b)
  local t = rv.type
  if t == VNUM then return rv.u.n end
  if t == VREF then
    local s = rv.u.ref
    local v = slots[s]
    unslot(b, s)
    return v
  end
  if t == VBOOL then return rv.u.b ~= 0 end
  if t == VINT then return tonumber(rv.u.i) end
  if t == VBLOB then return takeblob(tonumber(cast(uintptr, rv.u.blob))) end
  return nil
end

--- Wrap the C API methods of `m` (the channel methods) and `lugo`'s select
-- with fast paths; `check` raises the error a wake-up carries.
return function(m, lugo, check)
  local csend, crecv, ctrysend, ctryrecv = m.send, m.recv, m.trysend, m.tryrecv

  function m.send(ch, v)
    local mt = getmetatable(ch)
    if mt == shared_mt and inline(v) then
      local u = cast(chanud_p, ch)
      local rc = C.lg_chan_trysend(u.c, sv)
      if rc == EAGAIN then rc = C.lg_chan_send(u.c, C.lgb_ffi_curg(u.b), sv) end
      if rc == OK then return end
      if rc == PARKED then return check(park()) end
    elseif mt == chan_mt then
      local u = cast(chanud_p, ch)
      local b = u.b
      local s = encode(b, v)
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
      if rc == OK then return decode(b), true end
      if rc == ECLOSED then return nil, false end
      if rc == PARKED then return park() end
    end
    return crecv(ch)
  end

  function m.trysend(ch, v)
    local mt = getmetatable(ch)
    if mt == shared_mt and inline(v) then
      local rc = C.lg_chan_trysend(cast(chanud_p, ch).c, sv)
      if rc == OK then return true end
      if rc == EAGAIN then return false end
    elseif mt == chan_mt then
      local u = cast(chanud_p, ch)
      local s = encode(u.b, v)
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
      if rc == OK then return decode(u.b), true end
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
        if not encode(b, cases[i][3]) then
          for k = 0, i - 2 do  -- give back the slots taken so far
            local val = scases[k].val
            if scases[k].dir == 2 and scases[k].c ~= nil and val.type == VREF then
              unslot(b, val.u.ref)
            end
          end
          return cselect(cases)
        end
        sc.val = sv
      end
    end
    if b == nil then return cselect(cases) end  -- no channel at all
    -- lg_select owns the send values from here: what it does not send it
    -- gives back to the slot free list.
    local block = not cases.default
    local rc = C.lg_select(b, C.lgb_ffi_curg(b), scases, n, block and 1 or 0,
                           chosen, rv, okp)
    if rc == OK then
      local i = chosen[0]
      if scases[i].dir == 2 then return i + 1 end
      return i + 1, decode(b), okp[0] ~= 0
    end
    if rc == PARKED then return check(park()) end
    if rc == EAGAIN then return nil end
    return cselect(cases)  -- raise what needs raising
  end
end
