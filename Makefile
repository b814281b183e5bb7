# lugo: build, test, run, bench, install.
#
#   make                 build/lua5.4/lugo/core.so and build/luajit/lugo/core.so
#   make test            C unit tests (ASan/UBSan), busted on Lua 5.4 and
#                        LuaJIT, a luarocks install; ends "N passed, M failed"
#   make run             bin/lugo examples/worker_pool.lua      (LUA=luajit too)
#   make bench           bench/run.sh
#   make install         luarocks make into the system tree     (LUA=luajit too)
#   eval "$(make -s env)"             LUA_PATH/LUA_CPATH for plain lua5.4
#   eval "$(make -s env LUA=luajit)"  ... for plain luajit
#   make deps            install missing Debian packages (as root; otherwise
#                        prints the apt-get command); every target runs it
#   make clean

LUA    ?= lua5.4
CFLAGS ?= -O2 -g
WARN    = -Wall -Wextra
BASE    = -std=c11 -fPIC -D_GNU_SOURCE $(WARN)
SAN     = -g -fsanitize=address,undefined -fno-sanitize-recover=all \
          -fno-omit-frame-pointer
# Recursive (=) on purpose: pkg-config runs when a recipe runs, which is
# after `deps` has installed what it asks about.
UV_CFLAGS = $(shell pkg-config --cflags libuv)
UV_LIBS   = $(shell pkg-config --libs libuv)

CORE_SRC = $(wildcard core/*.c)
BIND_SRC = $(wildcard bindings/lua/*.c)
HDR      = $(wildcard core/*.h bindings/lua/*.h)
CORE_OBJ = $(CORE_SRC:%.c=build/obj/%.o)
ROOT    := $(CURDIR)

.PHONY: all deps deps-test deps-bench check-lua env test run bench install rock clean
.DELETE_ON_ERROR:
.SECONDARY: $(CORE_OBJ)

all: build/lua5.4/lugo/core.so build/luajit/lugo/core.so

deps:
	@.ci/deps.sh

deps-test:
	@.ci/deps.sh test

deps-bench:
	@.ci/deps.sh bench

# core/ has no Lua dependency: compiled once, without Lua headers, and
# linked into both modules.
build/obj/core/%.o: core/%.c $(HDR) | deps
	@mkdir -p $(@D)
	$(CC) $(BASE) -Werror $(CFLAGS) $(UV_CFLAGS) -c -o $@ $<

# The stem is the pkg-config name of the Lua: lua5.4 or luajit.
build/%/lugo/core.so: $(CORE_OBJ) $(BIND_SRC) $(HDR) | deps
	@mkdir -p $(@D)
	$(CC) $(BASE) -Werror $(CFLAGS) $(shell pkg-config --cflags $*) \
	  $(UV_CFLAGS) -shared -o $@ $(BIND_SRC) $(CORE_OBJ) $(UV_LIBS)

# One C unit test: spec/core/<name>_test.c plus all of core/, sanitized.
build/test/%: spec/core/%.c $(CORE_SRC) $(HDR) $(wildcard spec/core/*.h) | deps
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) -Werror $(SAN) -Icore $(UV_CFLAGS) \
	  -o $@ $< $(CORE_SRC) $(UV_LIBS)

# The same under ThreadSanitizer, for the tests of the concurrent parts.
build/tsan/%: spec/core/%.c $(CORE_SRC) $(HDR) $(wildcard spec/core/*.h) | deps
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) -Werror -g -O1 -fsanitize=thread \
	  -Icore $(UV_CFLAGS) -o $@ $< $(CORE_SRC) $(UV_LIBS)

# The Lua 5.4 module built with ASan/UBSan, for .ci/test.sh's sanitized run
# of the specs (the sanitizer runtimes are preloaded into lua5.4).
build/asan/lugo/core.so: $(CORE_SRC) $(BIND_SRC) $(HDR) | deps
	@mkdir -p $(@D)
	$(CC) $(BASE) -Werror $(SAN) $(shell pkg-config --cflags lua5.4) \
	  $(UV_CFLAGS) -shared -o $@ $(CORE_SRC) $(BIND_SRC) $(UV_LIBS)

check-lua:
	@case "$(LUA)" in lua5.4|luajit) ;; \
	  *) echo "LUA must be lua5.4 or luajit" >&2; exit 1;; esac

# Only the two export lines reach stdout (deps and the compiler use stderr).
env: check-lua build/$(LUA)/lugo/core.so
	@echo 'export LUA_PATH="$(ROOT)/lua/?.lua;$(ROOT)/lua/?/init.lua;;"'
	@echo 'export LUA_CPATH="$(ROOT)/build/$(LUA)/?.so;;"'

# .ci/test.sh builds what each suite needs itself, so a build failure is
# counted as a failed suite and the summary line still comes last.
test: deps-test
	@MAKE="$(MAKE)" .ci/test.sh

run: check-lua build/$(LUA)/lugo/core.so
	LUGO_LUA=$(LUA) bin/lugo examples/worker_pool.lua

bench: all deps-bench build/lua5.4/bench/capi.so build/luajit/bench/capi.so
	bench/run.sh

# bench/capi.c: the C API floor the benchmarks print beside lugo.
build/%/bench/capi.so: bench/capi.c | deps
	@mkdir -p $(@D)
	$(CC) $(BASE) -Werror $(CFLAGS) $(shell pkg-config --cflags $*) \
	  -shared -o $@ $<

# LuaRocks installs LuaJIT modules as Lua 5.1 ones; give it LuaJIT's headers.
ifeq ($(LUA),luajit)
ROCK_ARGS = --lua-version=5.1 \
  LUA_INCDIR=$(patsubst -I%,%,$(shell pkg-config --cflags-only-I luajit))
else
ROCK_ARGS = --lua-version=5.4
endif

install: check-lua deps
	luarocks make rockspec/lugo-scm-1.rockspec $(ROCK_ARGS)

# Called by `luarocks make` (the rockspec's build type is "make") with its own
# CC, CFLAGS, LIBFLAG, LUA_INCDIR and LIBUV_* for the Lua it installs for.
# No -Werror: a user's newer compiler must not break an install.
LIBFLAG ?= -shared
rock:
	@mkdir -p build/rock/lugo
	$(CC) $(BASE) $(CFLAGS) $(addprefix -I,$(LUA_INCDIR) $(LIBUV_INCDIR)) \
	  $(LIBFLAG) -o build/rock/lugo/core.so $(CORE_SRC) $(BIND_SRC) \
	  $(addprefix -L,$(LIBUV_LIBDIR)) -luv

clean:
	rm -rf build

# libFuzzer on core/http.c: `make fuzz [FUZZ_SECONDS=60]`. `.ci/deps.sh fuzz`
# installs clang and libFuzzer's runtime the way it installs the
# rest. The fuzzer grows a copy of the seed corpus in build/fuzz/corpus (kept
# between runs); a crash is saved as build/fuzz/crash-* and fails the target.
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_SAN      = -g -O1 -fsanitize=fuzzer,address,undefined \
                -fno-sanitize-recover=all
FUZZ_SRC      = spec/fuzz/http_fuzz.c core/http.c core/base.c

.PHONY: fuzz
build/fuzz/http_fuzz: $(FUZZ_SRC) core/http.h core/lugo.h | deps
	@.ci/deps.sh fuzz
	@mkdir -p $(@D)
	$(FUZZ_CC) -std=c11 -D_GNU_SOURCE $(WARN) -Werror $(FUZZ_SAN) -Icore \
	  $(UV_CFLAGS) -o $@ $(FUZZ_SRC) $(UV_LIBS)

fuzz: build/fuzz/http_fuzz
	@mkdir -p build/fuzz/corpus
	cp spec/fuzz/corpus/http/* build/fuzz/corpus/
	build/fuzz/http_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	  -timeout=10 -print_final_stats=1 -artifact_prefix=build/fuzz/ \
	  -dict=spec/fuzz/http.dict build/fuzz/corpus
