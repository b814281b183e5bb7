#!/usr/bin/env bash
# bench/run.sh: what `make bench` runs (from the repo root, after the build).
# Runs every workload of bench/workloads.lua in five columns, side by side in
# one run, and prints one table:
#   lugo-5.4   lugo on Lua 5.4          (build/lua5.4/lugo/core.so)
#   lugo-jit   lugo on LuaJIT           (build/luajit/lugo/core.so)
#   go         Go, GOMAXPROCS=1         (bench/go, built into build/bench/)
#   pure-5.4   bench/purelua.lua on Lua 5.4
#   pure-jit   bench/purelua.lua on LuaJIT
# Each workload runs in a fresh process per column, so peak RSS is its own.
# Then bench/net.sh (its own section below, its own table): HTTP keep-alive
# hello world (lugo, Go net/http, nginx+Lua under wrk) and TCP echo
# throughput (lugo, Go).
#
# Environment:
#   BENCH_SCALE=0.1              multiply every workload's size (default 1)
#   BENCH_WORKLOADS="pingpong …" run only these workloads
#   BENCH_COLUMNS="go pure-jit"  run only these columns
#   BENCH_REPEAT=2               runs per cell; the table shows the best
#                                (lowest) value of each metric
#   BENCH_TIMEOUT=120            seconds allowed per process
#   BENCH_NET_ONLY=1             only the network benchmarks (bench/net.sh)
#   BENCH_NET=0                  no network benchmarks
#   BENCH_NET_*                  more knobs: see bench/net.sh
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

SCALE=${BENCH_SCALE:-1}
TIMEOUT=${BENCH_TIMEOUT:-120}
REPEAT=${BENCH_REPEAT:-2}
ALL_WORKLOADS="spawn coroutine pingpong buffered select_block select_default select_timeout pool capi sleep"
ALL_COLUMNS="lugo-5.4 lugo-jit go pure-5.4 pure-jit"
WORKLOADS=${BENCH_WORKLOADS:-$ALL_WORKLOADS}
COLUMNS=${BENCH_COLUMNS:-$ALL_COLUMNS}
NET=${BENCH_NET:-1}
if [ "${BENCH_NET_ONLY:-0}" = 1 ]; then WORKLOADS= NET=1; fi

OUT=$(mktemp -d "${TMPDIR:-/tmp}/lugo-bench.XXXXXX")
trap 'rm -rf "$OUT"' EXIT
RESULTS=$OUT/results   # lines: column workload key value
ERRORS=$OUT/errors     # lines: column workload message
: >"$RESULTS"
: >"$ERRORS"

LUGO_PATH="$ROOT/lua/?.lua;$ROOT/lua/?/init.lua;;"

first_line() { "$@" 2>&1 | head -n 1; }

# Header ------------------------------------------------------------------
cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
mhz=$(grep -m1 'cpu MHz' /proc/cpuinfo | sed 's/.*: //')
mem=$(awk '/MemTotal/ {printf "%.1f GB", $2 / 1048576}' /proc/meminfo)
echo "lugo benchmarks  $(date -u '+%Y-%m-%d %H:%M UTC')  rev $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "machine   $(nproc) CPUs, $cpu @ ${mhz%.*} MHz, $mem, Linux $(uname -r)"
echo "lua5.4    $(first_line lua5.4 -v)"
echo "luajit    $(first_line luajit -v)"
echo "go        $(first_line go version)  (GOMAXPROCS=1)"
echo "clocks    lugo: lugo.now(); pure-jit: clock_gettime(CLOCK_MONOTONIC) via FFI;"
echo "          pure-5.4: os.clock() = process CPU time (no wall clock in plain Lua),"
echo "          so pure-5.4 has no sleep column; go: time.Now()"
read -r l1 l5 _ </proc/loadavg
echo "load      $l1 $l5 (1, 5 min) at start; other processes share the CPUs"
echo "runs      best of $REPEAT per cell (BENCH_REPEAT), scale $SCALE (BENCH_SCALE)"
echo

# Go peer -------------------------------------------------------------------
GOBENCH=$ROOT/build/bench/gobench
mkdir -p "$ROOT/build/bench"
if [ -n "$WORKLOADS" ] && [[ " $COLUMNS " == *" go "* ]]; then
  if ! (cd bench/go && GOPROXY=off GOFLAGS= go build -o "$GOBENCH" .) \
      2>"$OUT/gobuild"; then
    echo "go build failed:" >&2
    cat "$OUT/gobuild" >&2
  fi
fi

# One process: column workload ------------------------------------------------
run_one() {
  local col=$1 w=$2 cmd=()
  # The bare-coroutine and C API floors are the interpreter's, not a
  # runtime's.
  case $col in
    go|lugo-*) case $w in coroutine|capi) return 0 ;; esac ;;
  esac
  case $col in
    lugo-5.4) cmd=(env LUA_PATH="$LUGO_PATH" LUA_CPATH="$ROOT/build/lua5.4/?.so;;"
                  lua5.4 bench/workloads.lua lugo "$w" "scale=$SCALE") ;;
    lugo-jit) cmd=(env LUA_PATH="$LUGO_PATH" LUA_CPATH="$ROOT/build/luajit/?.so;;"
                  luajit bench/workloads.lua lugo "$w" "scale=$SCALE") ;;
    go)       cmd=(env GOMAXPROCS=1 "$GOBENCH" -w "$w" -scale "$SCALE") ;;
    pure-5.4) [ "$w" = sleep ] && return 0   # no wall clock: n/a
              cmd=(env LUA_CPATH="$ROOT/build/lua5.4/bench/?.so;;"
                  lua5.4 bench/workloads.lua purelua "$w" "scale=$SCALE") ;;
    pure-jit) cmd=(env LUA_CPATH="$ROOT/build/luajit/bench/?.so;;"
                  luajit bench/workloads.lua purelua "$w" "scale=$SCALE") ;;
    *) echo "unknown column $col" >&2; return 1 ;;
  esac
  local so=
  case $col/$w in
    lugo-5.4/*) so=build/lua5.4/lugo/core.so ;;
    lugo-jit/*) so=build/luajit/lugo/core.so ;;
    pure-5.4/capi) so=build/lua5.4/bench/capi.so ;;
    pure-jit/capi) so=build/luajit/bench/capi.so ;;
  esac
  if [ -n "$so" ] && [ ! -f "$so" ]; then
    grep -qF "$col $w " "$ERRORS" ||
      echo "$col $w $so missing (run make first)" >>"$ERRORS"
    return 0
  fi
  local t0=$SECONDS rc=0
  timeout "$TIMEOUT" "${cmd[@]}" >"$OUT/stdout" 2>"$OUT/stderr" || rc=$?
  printf '  %d/%d %-15s %-9s %3ds' "$rep" "$REPEAT" "$w" "$col" \
    $((SECONDS - t0)) >&2
  awk -v c="$col" -v w="$w" '$1 == "RESULT" {print c, w, $2, $3}' \
    "$OUT/stdout" >>"$RESULTS"
  if [ $rc -ne 0 ]; then
    local msg
    if [ $rc -eq 124 ]; then msg="timed out after ${TIMEOUT}s"
    else
      msg=$(grep -v '^[[:space:]]*$' "$OUT/stderr" | head -n 1 | tr '\t' ' ')
      msg="exit $rc: ${msg:0:300}"
    fi
    grep -qF "$col $w $msg" "$ERRORS" || echo "$col $w $msg" >>"$ERRORS"
    echo "  FAILED: $msg" >&2
  else
    echo >&2
  fi
}

# Repeats are whole passes, so that a burst of outside load spoils one run
# of a cell rather than all of them.
status=0
if [ -n "$WORKLOADS" ]; then
  echo "running (one process per run, workload and column):" >&2
  for rep in $(seq 1 "$REPEAT"); do
    for w in $WORKLOADS; do
      for col in $COLUMNS; do
        run_one "$col" "$w"
      done
    done
  done
  echo >&2

  lua5.4 bench/report.lua "$RESULTS" "$ERRORS" "$COLUMNS" "$SCALE"
  # Exit 1 when a column failed, so that `make bench` says so too.
  [ ! -s "$ERRORS" ] || status=1
fi

# Processors: bench/procs.lua on 1 and 2 processors, Go on GOMAXPROCS 1 and 2
# (BENCH_PROCS=0 skips it; BENCH_PROCS_WORKLOADS chooses).
PROCS_WORKLOADS=${BENCH_PROCS_WORKLOADS:-cpupool xping xthroughput spawnrate}
if [ "${BENCH_PROCS:-1}" != 0 ] && [ -n "$WORKLOADS" ]; then
  PRESULTS=$OUT/presults
  : >"$PRESULTS"
  echo "running the processors section:" >&2
  for rep in $(seq 1 "$REPEAT"); do
    for w in $PROCS_WORKLOADS; do
      for n in 1 2; do
        for lua in lua5.4 luajit; do
          [ "$w" = xping ] || [ "$w" = xthroughput ] && [ "$n" = 1 ] && continue
          env LUA_PATH="$LUGO_PATH" LUA_CPATH="$ROOT/build/$lua/?.so;;" \
            timeout "$TIMEOUT" $lua bench/procs.lua "$w" "$n" "scale=$SCALE" \
            2>"$OUT/stderr" | awk -v c="$lua/$n" -v w="$w" \
              '$1 == "RESULT" {print c, w, $2, $3}' >>"$PRESULTS" ||
            status=1
        done
        GOMAXPROCS=$n timeout "$TIMEOUT" "$GOBENCH" -w "$w" -scale "$SCALE" |
          awk -v c="go/$n" -v w="$w" '$1 == "RESULT" {print c, w, $2, $3}' \
          >>"$PRESULTS"
      done
      printf '  %d/%d %s\n' "$rep" "$REPEAT" "$w" >&2
    done
  done
  echo
  lua5.4 bench/procs_report.lua "$PRESULTS"
fi

# Network: HTTP and TCP echo servers under load ------------------------------
# bench/net.sh prints its own header lines and table; see there.
if [ "$NET" != 0 ]; then
  [ -n "$WORKLOADS" ] && echo
  bench/net.sh || status=1
  # HTTP on two processors: lugo.http.serve{procs = 2}, Go GOMAXPROCS=2,
  # nginx with 2 workers (BENCH_NET_PROCS=0 skips it)
  if [ "${BENCH_NET_PROCS:-1}" != 0 ]; then
    echo
    BENCH_NET_COLUMNS="lugo-5.4x2 lugo-jitx2 go2 nginx2" bench/net.sh || status=1
  fi
fi
exit $status
