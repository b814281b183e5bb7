#!/usr/bin/env bash
# bench/http_callgrind.sh: instructions per HTTP request of lugo.http.serve
# (bench/http/server.lua, the hello handler), counted by valgrind's
# callgrind, to compare versions without timing noise.
#
#   bench/http_callgrind.sh [n] [lua] [conns]
#     n      keep-alive requests (default 20000)
#     lua    lua5.4 (default) or luajit
#     conns  client connections (default 4)
#   CALLGRIND_TOP=20   also list the 20 costliest functions (default 15; 0: none)
#   CALLGRIND_KEEP=1   keep the callgrind.out files (path printed)
#
# Runs the server twice under callgrind; a Go client outside valgrind
# (build/bench/netbench httpclient) sends exactly n, then n/10, requests,
# and the server is stopped with SIGTERM (callgrind writes its counts on
# the way out). Reports
#   Ir/request = (Ir(n) - Ir(n/10)) / (n - n/10)
# so start-up, module loading and exit cancel out.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

N=${1:-20000}
LUA=${2:-lua5.4}
CONNS=${3:-4}
TOP=${CALLGRIND_TOP:-15}
N0=$((N / 10))
[ "$N0" -ge 1 ] || N0=1

case $LUA in
  lua5.4|luajit) ;;
  *) echo "http_callgrind.sh: lua must be lua5.4 or luajit" >&2; exit 2 ;;
esac
if [ ! -f "build/$LUA/lugo/core.so" ]; then
  echo "http_callgrind.sh: build/$LUA/lugo/core.so missing (run make first)" >&2
  exit 1
fi
command -v valgrind >/dev/null || { echo "http_callgrind.sh: valgrind not found" >&2; exit 1; }
NETBENCH=$ROOT/build/bench/netbench
mkdir -p "$ROOT/build/bench"
(cd bench/http && GOPROXY=off GOFLAGS='' go build -o "$NETBENCH" .) || {
  echo "http_callgrind.sh: go build of bench/http failed" >&2; exit 1; }

OUT=$(mktemp -d "${TMPDIR:-/tmp}/lugo-httpcg.XXXXXX")
SPID=
cleanup() {
  if [ -n "$SPID" ]; then kill "$SPID" 2>/dev/null || true; fi
  if [ "${CALLGRIND_KEEP:-0}" != 1 ]; then rm -rf "$OUT"; fi
}
trap cleanup EXIT
[ "${CALLGRIND_KEEP:-0}" = 1 ] && echo "callgrind files kept in $OUT"

export LUA_PATH="$ROOT/lua/?.lua;$ROOT/lua/?/init.lua;;"
export LUA_CPATH="$ROOT/build/$LUA/?.so;;"

# Total instructions of a server that answered $1 requests.
count() {
  local n=$1 tag=$2 port= i
  valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.out.$tag" \
    "$LUA" bench/http/server.lua http \
    >"$OUT/stdout.$tag" 2>"$OUT/stderr.$tag" &
  SPID=$!
  for i in $(seq 600); do
    port=$(awk '/^LISTEN/ {print $2; exit}' "$OUT/stdout.$tag")
    [ -n "$port" ] && break
    kill -0 "$SPID" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$port" ]; then
    echo "http_callgrind.sh: the server did not start:" >&2
    grep -v '^==' "$OUT/stderr.$tag" >&2 || true
    exit 1
  fi
  "$NETBENCH" httpclient -addr "127.0.0.1:$port" -conns "$CONNS" -n "$n" \
    >"$OUT/client.$tag" || { echo "http_callgrind.sh: client failed" >&2; exit 1; }
  kill -TERM "$SPID"
  wait "$SPID" 2>/dev/null || true
  SPID=
  awk '/^(summary|totals):/ {print $2; exit}' "$OUT/callgrind.out.$tag"
}

echo "callgrind: http hello on lugo/$LUA, $CONNS connections, n=$N and n=$N0 ..." >&2
ir1=$(count "$N" big)
ir0=$(count "$N0" small)
awk -v a="$ir1" -v b="$ir0" -v ops="$((N - N0))" \
  'BEGIN { printf "%d %.1f\n", a, (a - b) / ops }' |
  { read -r total perop
    echo "http on lugo/$LUA, n=$N, $CONNS conns: Ir total $total, Ir/request $perop"; }

if [ "$TOP" -gt 0 ] && command -v callgrind_annotate >/dev/null; then
  echo "costliest functions at n=$N (self Ir):"
  callgrind_annotate --threshold=100 "$OUT/callgrind.out.big" 2>/dev/null |
    grep -F '%)' | grep -v 'PROGRAM TOTALS' | head -n "$TOP" | sed 's/^/  /'
fi
