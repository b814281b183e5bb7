-- From a checkout: `make install`, or
--   luarocks --lua-version=5.4 make rockspec/lugo-scm-1.rockspec [--tree DIR]
-- The C module is built by the Makefile's `rock` target, so every core/*.c
-- and bindings/lua/*.c is in it without being listed here.
rockspec_format = "3.0"
package = "lugo"
version = "scm-1"
-- Built from a checkout with `luarocks make`; the rock is not published, so
-- the source URL is a placeholder luarocks needs but never fetches.
source = { url = "git+file:///dev/null" }
description = {
  summary = "Go's concurrency model as a C runtime driven by Lua",
  detailed = "Goroutines, channels, select, timers, sync, TCP, UDP, DNS "
    .. "and HTTP/1.1 for Lua 5.4 and LuaJIT, run by a C scheduler on libuv.",
  license = "MIT",
}
dependencies = { "lua >= 5.1" }
external_dependencies = {
  LIBUV = { header = "uv.h", library = "uv" },
}
build = {
  type = "make",
  build_target = "rock",
  build_variables = {
    CC = "$(CC)",
    CFLAGS = "$(CFLAGS)",
    LIBFLAG = "$(LIBFLAG)",
    LUA_INCDIR = "$(LUA_INCDIR)",
    LIBUV_INCDIR = "$(LIBUV_INCDIR)",
    LIBUV_LIBDIR = "$(LIBUV_LIBDIR)",
  },
  install_pass = false,
  install = {
    lua = {
      ["lugo"] = "lua/lugo/init.lua",
      ["lugo.context"] = "lua/lugo/context.lua",
      ["lugo.pool"] = "lua/lugo/pool.lua",
      ["lugo.cli"] = "lua/lugo/cli.lua",
      ["lugo.ffi"] = "lua/lugo/ffi.lua",
      ["lugo.net"] = "lua/lugo/net.lua",
      ["lugo.http"] = "lua/lugo/http.lua",
      ["lugo.repl"] = "lua/lugo/repl.lua",
    },
    lib = { ["lugo.core"] = "build/rock/lugo/core.so" },
    bin = { lugo = "bin/lugo" },
  },
}
