#!/usr/bin/env bash
# `make test`: run every suite with its output visible, then print one last
# line "N passed, M failed" summing them all. Exit status 0 only when M is 0.
#
# A suite prints one line per test, and those lines are all that is counted:
#   ok <name>                  passed
#   not ok <name>: <why>       failed
# The C tests (spec/core/*_test.c) print them themselves, busted through
# .ci/busted_lines.lua. A suite that exits non-zero without a "not ok" line
# (a build error, a leak found at exit), or that a signal kills, counts as one
# more failure. BUSTED_ARGS (e.g. "--verbose", "--filter=chan") go to busted.
set -u
cd "$(dirname "$0")/.."
root=$PWD
make="${MAKE:-make} -s --no-print-directory"
passed=0 failed=0
log=$(mktemp) tree=$(mktemp -d)
trap 'rm -rf "$log" "$tree"' EXIT

suite() { # suite NAME COMMAND...
  local name=$1 rc ok bad; shift
  printf '\n=== %s\n' "$name"
  "$@" 2>&1 | tee "$log"; rc=${PIPESTATUS[0]}
  ok=$(grep -c '^ok ' "$log") bad=$(grep -c '^not ok ' "$log")
  if [ "$rc" -gt 128 ]; then
    echo "not ok $name: killed by signal $((rc - 128))"; bad=$((bad + 1))
  elif [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
    echo "not ok $name: exited with status $rc"; bad=$((bad + 1))
  fi
  passed=$((passed + ok)) failed=$((failed + bad))
}

# c_test NAME: spec/core/NAME.c with core/, under ASan and UBSan.
c_test() {
  $make "build/test/$1" && "build/test/$1"
}

# tsan_test NAME: spec/core/NAME.c with core/, under ThreadSanitizer.
tsan_test() {
  $make "build/tsan/$1" && TSAN_OPTIONS=halt_on_error=1 "build/tsan/$1"
}

# busted_on LUA: the specs on interpreter LUA, against build/LUA.
busted_on() {
  $make "build/$1/lugo/core.so" &&
  LUA_PATH="$root/lua/?.lua;$root/lua/?/init.lua;;" \
  LUA_CPATH="$root/build/$1/?.so;;" \
  "$1" "$(command -v busted)" -o "$root/.ci/busted_lines.lua" ${BUSTED_ARGS:-}
}

# busted_asan: the specs on Lua 5.4 against the module built with ASan and
# UBSan, so a memory error in the binding or the core fails the build.
# Specs that start other programs (curl, wrk, bin/lugo) are left out: the
# preloaded runtime would follow them.
busted_asan() {
  $make build/asan/lugo/core.so &&
  ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=halt_on_error=1 \
  LD_PRELOAD="$(cc -print-file-name=libasan.so):$(cc -print-file-name=libubsan.so)" \
  LUA_PATH="$root/lua/?.lua;$root/lua/?/init.lua;;" \
  LUA_CPATH="$root/build/asan/?.so;;" \
  lua5.4 "$(command -v busted)" -o "$root/.ci/busted_lines.lua" \
    --filter-out="real clients" --filter-out="REPL" --filter-out="examples/"
}

# rock_check: install the rockspec into an empty tree, then use lugo and the
# lugo command from there (one test).
rock_check() {
  local name="luarocks make, then require and bin/lugo from the tree"
  echo 'assert(arg[1] == "x" and ... == "x")' >"$tree/t.lua"
  local rocks="luarocks --lua-version=5.4"
  if $rocks make rockspec/lugo-scm-1.rockspec --tree "$tree" &&
     (eval "$($rocks path --tree "$tree")" && cd / &&
      lua5.4 -e 'assert(require"lugo".run(function() return 42 end) == 42)' &&
      "$tree/bin/lugo" "$tree/t.lua" x)
  then echo "ok $name"; else echo "not ok $name"; fi
}

for t in spec/core/*_test.c; do
  [ -e "$t" ] && suite "C $(basename "$t" .c)" c_test "$(basename "$t" .c)"
done
# The concurrent parts again under ThreadSanitizer: a race fails the run.
for t in proc_test map_test; do
  suite "C $t, ThreadSanitizer" tsan_test "$t"
done
suite "busted lua5.4" busted_on lua5.4
suite "busted luajit" busted_on luajit
suite "busted lua5.4, ASan/UBSan module" busted_asan
suite "luarocks" rock_check

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
