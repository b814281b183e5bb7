#!/usr/bin/env bash
# bench/callgrind.sh: instructions per operation of one workload, counted by
# valgrind's callgrind, to compare versions of the C code without timing
# noise.
#
#   bench/callgrind.sh [workload] [n] [lua] [runtime]
#     workload  pingpong (default), buffered, select_block, select_default,
#               select_timeout, spawn, pool
#     n         operations (default 100000)
#     lua       lua5.4 (default) or luajit
#     runtime   lugo (default) or purelua
#   CALLGRIND_TOP=20   also list the 20 costliest functions (default 15; 0: none)
#   CALLGRIND_KEEP=1   keep the callgrind.out files (path printed)
#
# Runs the workload twice, at n and at n/10, and reports
#   Ir/op = (Ir(n) - Ir(n/10)) / (ops(n) - ops(n/10))
# so start-up, module loading and exit cancel out.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

W=${1:-pingpong}
N=${2:-100000}
LUA=${3:-lua5.4}
RT=${4:-lugo}
TOP=${CALLGRIND_TOP:-15}
N0=$((N / 10))
[ "$N0" -ge 1 ] || N0=1

case $W in
  select_block|select_default|select_timeout) per=2 ;;   # n on each channel
  pingpong|buffered|spawn|pool) per=1 ;;
  sleep) echo "callgrind.sh: sleep measures time, not instructions" >&2; exit 2 ;;
  *) echo "callgrind.sh: unknown workload $W" >&2; exit 2 ;;
esac
case $LUA in
  lua5.4|luajit) ;;
  *) echo "callgrind.sh: lua must be lua5.4 or luajit" >&2; exit 2 ;;
esac
if [ "$RT" = lugo ] && [ ! -f "build/$LUA/lugo/core.so" ]; then
  echo "callgrind.sh: build/$LUA/lugo/core.so missing (run make first)" >&2
  exit 1
fi
command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind not found" >&2; exit 1; }

OUT=$(mktemp -d "${TMPDIR:-/tmp}/lugo-callgrind.XXXXXX")
if [ "${CALLGRIND_KEEP:-0}" = 1 ]; then
  echo "callgrind files kept in $OUT"
else
  trap 'rm -rf "$OUT"' EXIT
fi

export LUA_PATH="$ROOT/lua/?.lua;$ROOT/lua/?/init.lua;;"
export LUA_CPATH="$ROOT/build/$LUA/?.so;;"

# Total instructions of one run; its stdout goes to $OUT/stdout.$2.
count() {
  local n=$1 tag=$2
  valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.out.$tag" \
    "$LUA" bench/workloads.lua "$RT" "$W" "n=$n" \
    >"$OUT/stdout.$tag" 2>"$OUT/stderr.$tag" || {
      echo "callgrind.sh: run failed (n=$n):" >&2
      grep -v '^==' "$OUT/stderr.$tag" >&2 || true
      exit 1
    }
  # "summary:" (older valgrind) or "totals:" holds the Ir total.
  awk '/^(summary|totals):/ {print $2; exit}' "$OUT/callgrind.out.$tag"
}

echo "callgrind: $W on $RT/$LUA, n=$N and n=$N0 ..." >&2
ir1=$(count "$N" big)
ir0=$(count "$N0" small)
ops=$(( (N - N0) * per ))
case $W in
  pingpong) op="round trip" ;;
  spawn) op="goroutine: spawn, park, wake" ;;
  pool) op="job" ;;
  select_*) op="select" ;;
  *) op="item" ;;
esac
awk -v a="$ir1" -v b="$ir0" -v ops="$ops" 'BEGIN { printf "%d %.1f\n", a, (a - b) / ops }' |
  { read -r total perop
    echo "$W on $RT/$LUA, n=$N: Ir total $total, Ir/op $perop  (op = $op)"; }
echo "workload output at n=$N (times are under valgrind):"
sed 's/^/  /' "$OUT/stdout.big"

if [ "$TOP" -gt 0 ] && command -v callgrind_annotate >/dev/null; then
  echo "costliest functions at n=$N (self Ir):"
  callgrind_annotate --threshold=100 "$OUT/callgrind.out.big" 2>/dev/null |
    grep -F '%)' | grep -v 'PROGRAM TOTALS' | head -n "$TOP" | sed 's/^/  /'
fi
