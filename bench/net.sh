#!/usr/bin/env bash
# bench/net.sh: the network part of `make bench`; bench/run.sh calls it
# after the scheduler workloads (BENCH_NET_ONLY=1 bench/run.sh runs only
# this), and it runs alone too. On 127.0.0.1, one server at a time:
#
#   http   hello-world keep-alive server ("hello world\n", text/plain)
#          loaded by wrk -t1 -c50 and -c200, BENCH_NET_SECONDS each
#            lugo-5.4, lugo-jit  bench/http/server.lua http (lugo.http.serve)
#            go                  bench/http (net/http), GOMAXPROCS=1
#            nginx               nginx + libnginx-mod-http-lua,
#                                content_by_lua_block, one process
#   echo   TCP echo in 64 KiB blocks; the client (bench/http, Go,
#          GOMAXPROCS=1, its own process) writes and reads concurrently
#          on 1 and on 100 connections for BENCH_NET_ECHO_SECONDS
#            lugo-5.4, lugo-jit  bench/http/server.lua echo
#            go                  bench/http, GOMAXPROCS=1
#
# Besides req/s and MB/s it reports the server's own CPU time (utime +
# stime of its process from /proc/PID/stat, before and after the load) per
# request and per MB: wrk and the client share the CPUs with the server,
# so throughput is often bound by them, while CPU per unit is steady.
#
# Environment:
#   BENCH_NET_COLUMNS="lugo-jit nginx"  only these servers
#                                       (default: lugo-5.4 lugo-jit go nginx)
#                     "lugo-5.4x2 lugo-jitx2 go2 nginx2"  the same servers
#                                       on 2 processors / GOMAXPROCS=2 / 2
#                                       nginx workers (HTTP only; bench/run.sh
#                                       runs these as a second table)
#   BENCH_NET_SECONDS=5                 seconds per wrk run
#   BENCH_NET_ECHO_SECONDS=3            seconds per echo client run
#   BENCH_NET_REPEAT=1                  runs per cell; the best is shown
# Exit status 1 when something failed (the table says what).
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1

COLUMNS=${BENCH_NET_COLUMNS:-lugo-5.4 lugo-jit go nginx}
SECS=${BENCH_NET_SECONDS:-5}
ECHO_SECS=${BENCH_NET_ECHO_SECONDS:-3}
REPEAT=${BENCH_NET_REPEAT:-1}
HTTP_CONNS="50 200"
ECHO_CONNS="1 100"
ECHO_SIZE=65536
HZ=$(getconf CLK_TCK)

OUT=$(mktemp -d "${TMPDIR:-/tmp}/lugo-netbench.XXXXXX")
RESULTS=$OUT/results   # lines: column bench key value
ERRORS=$OUT/errors     # lines: column bench message
: >"$RESULTS"
: >"$ERRORS"

SPID=   # the running server's pid, killed by stop_server and on exit
stop_server() {
  [ -n "$SPID" ] || return 0
  kill -TERM "$SPID" 2>/dev/null
  local _
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    kill -0 "$SPID" 2>/dev/null || break
    sleep 0.2
  done
  kill -KILL "$SPID" 2>/dev/null
  wait "$SPID" 2>/dev/null
  SPID=
}
# The load (wrk, the echo client) runs in the background and is waited for,
# so that a signal to this script is handled at once, not after the load.
LPID=
load() {
  "$@" &
  LPID=$!
  wait "$LPID"
  local rc=$?
  LPID=
  return $rc
}
trap '[ -n "$LPID" ] && kill -TERM "$LPID" 2>/dev/null; stop_server; rm -rf "$OUT"' EXIT
trap 'exit 130' INT TERM

LUGO_PATH="$ROOT/lua/?.lua;$ROOT/lua/?/init.lua;;"
NETBENCH=$ROOT/build/bench/netbench
NGINX=$(command -v nginx || echo /usr/sbin/nginx)   # sbin: not in every PATH
NGINX_MODULES=/usr/lib/nginx/modules

first_line() { "$@" 2>&1 | head -n 1; }
error() {
  grep -qxF "$1 $2 $3" "$ERRORS" || echo "$1 $2 $3" >>"$ERRORS"
  echo "  FAILED: $1 $2: $3" >&2
}

# utime + stime of a process, in clock ticks (fields 14 and 15 of
# /proc/PID/stat; cut after the ")" that ends the command name first).
cpu_ticks() {
  local s f t child
  s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  read -ra f <<<"${s##*) }"   # f[0] is field 3 (state)
  t=$((f[11] + f[12]))
  # nginx's workers are child processes (threads are in the process's own)
  for child in $(pgrep -P "$1" 2>/dev/null); do
    s=$(cat "/proc/$child/stat" 2>/dev/null) || continue
    read -ra f <<<"${s##*) }"
    t=$((t + f[11] + f[12]))
  done
  echo $t
}

# Header -----------------------------------------------------------------
read -r l1 l5 _ </proc/loadavg
echo "network benchmarks  $(date -u '+%Y-%m-%d %H:%M UTC'), load $l1 $l5 (1, 5 min)"
echo "network   127.0.0.1; each server on one core: lugo (one processor),"
echo "          Go GOMAXPROCS=1, nginx one process (master_process off);"
echo "          columns ending in 2: two processors, GOMAXPROCS=2, 2 workers"
echo "nginx     $(first_line "$NGINX" -v | sed 's/^nginx version: //')" \
  "+ lua-nginx-module $(dpkg-query -W -f '${Version}' libnginx-mod-http-lua \
  2>/dev/null || echo '?')"
echo "wrk       $(first_line wrk -v | sed 's/ Copyright.*//')"
echo "cpu time  /proc/PID/stat utime+stime of the server, $HZ ticks/s"
echo

# Go peers ------------------------------------------------------------------
mkdir -p "$ROOT/build/bench"
if ! (cd bench/http && GOPROXY=off GOFLAGS='' go build -o "$NETBENCH" .) \
    2>"$OUT/gobuild"; then
  echo "go build of bench/http failed:" >&2
  cat "$OUT/gobuild" >&2
  rm -f "$NETBENCH"
fi

# Servers -------------------------------------------------------------------
# start_server COLUMN KIND (http | echo): sets SPID and PORT, or records
# an error for every bench of KIND and returns 1.
start_server() {
  local col=$1 kind=$2 lua= procs=1
  PORT=
  case $col in
    lugo-5.4*) lua=lua5.4 ;;
    lugo-jit*) lua=luajit ;;
  esac
  case $col in *2) procs=2 ;; esac
  local why=
  if [ -n "$lua" ] && [ ! -f "build/$lua/lugo/core.so" ]; then
    why="build/$lua/lugo/core.so missing (run make first)"
  elif [ "${col%2}" = go ] && [ ! -x "$NETBENCH" ]; then
    why="no $NETBENCH (go build failed)"
  elif [ "${col%2}" = nginx ] && [ ! -x "$NGINX" ]; then
    why="nginx not installed (make deps-bench)"
  elif [ "${col%2}" = nginx ] && [ ! -f "$NGINX_MODULES/ngx_http_lua_module.so" ]; then
    why="libnginx-mod-http-lua not installed (make deps-bench)"
  fi
  if [ -z "$why" ]; then
    : >"$OUT/server.out"
    case $col in
      lugo-*)
        LUGO_BENCH_PROCS=$procs \
        LUA_PATH="$LUGO_PATH" LUA_CPATH="$ROOT/build/$lua/?.so;;" \
          "$lua" bench/http/server.lua "$kind" "$ECHO_SIZE" \
          >"$OUT/server.out" 2>"$OUT/server.err" &
        SPID=$! ;;
      go*)
        GOMAXPROCS=$procs "$NETBENCH" "$kind" -size "$ECHO_SIZE" \
          >"$OUT/server.out" 2>"$OUT/server.err" &
        SPID=$! ;;
      nginx*)
        PORT=$("$NETBENCH" freeport 2>/dev/null || echo 28080)
        nginx_conf "$PORT" "$procs" >"$OUT/nginx/nginx.conf"
        # one worker: no master; more: a master and its workers
        "$NGINX" -p "$OUT/nginx" -c "$OUT/nginx/nginx.conf" \
          -e "$OUT/nginx/logs/error.log" \
          -g "daemon off; master_process $([ "$procs" = 1 ] && echo off || echo on);" \
          >"$OUT/server.out" 2>"$OUT/server.err" &
        SPID=$! ;;
    esac
    wait_ready "$kind"
    why=$WHY
  fi
  if [ -n "$why" ]; then
    stop_server
    local c
    if [ "$kind" = http ]; then
      for c in $HTTP_CONNS; do error "$col" "http$c" "$why"; done
    else
      for c in $ECHO_CONNS; do error "$col" "echo$c" "$why"; done
    fi
    return 1
  fi
}

# The nginx config, everything under $OUT/nginx (logs, temp files, pid).
mkdir -p "$OUT/nginx/logs" "$OUT/nginx/tmp"
nginx_conf() {
  cat <<EOF
load_module $NGINX_MODULES/ndk_http_module.so;
load_module $NGINX_MODULES/ngx_http_lua_module.so;
worker_processes ${2:-1};
error_log $OUT/nginx/logs/error.log warn;
pid $OUT/nginx/logs/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 60s;
  client_body_temp_path $OUT/nginx/tmp/body;
  proxy_temp_path $OUT/nginx/tmp/proxy;
  fastcgi_temp_path $OUT/nginx/tmp/fastcgi;
  uwsgi_temp_path $OUT/nginx/tmp/uwsgi;
  scgi_temp_path $OUT/nginx/tmp/scgi;
  server {
    listen 127.0.0.1:$1;
    location / {
      content_by_lua_block { ngx.header.content_type = "text/plain"; ngx.say("hello world") }
    }
  }
}
EOF
}

# Sets WHY to "" once the server answers, else to why it does not. The
# lugo and Go servers print "LISTEN <port>"; nginx's port was chosen for it.
wait_ready() {
  local kind=$1 reply
  WHY=
  for _ in $(seq 1 50); do
    if ! kill -0 "$SPID" 2>/dev/null; then
      WHY=$(grep -v '^[[:space:]]*$' "$OUT/server.err" | head -n 1 | cut -c1-300)
      WHY="server exited: $WHY"
      return
    fi
    [ -n "$PORT" ] || PORT=$(awk '$1 == "LISTEN" {print $2}' "$OUT/server.out")
    if [ -n "$PORT" ] && (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
      [ "$kind" = echo ] && return
      # one request by hand: the answer must be what wrk will be counting
      reply=$(exec 3<>"/dev/tcp/127.0.0.1/$PORT" &&
        printf 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3 &&
        timeout 2 cat <&3 | tr -d '\r')
      if [[ $reply == "HTTP/1.1 200"* ]] &&
         grep -qi '^content-type: text/plain' <<<"$reply" &&
         grep -qx 'hello world' <<<"$reply"; then
        return
      fi
      WHY="bad reply: $(head -n 1 <<<"$reply")"
      return
    fi
    sleep 0.1
  done
  WHY="not listening after 5 s"
}

# Loads ---------------------------------------------------------------------
result() { echo "$1 $2 $3 $4" >>"$RESULTS"; }

# http_run COLUMN CONNS: one wrk run against the server on $PORT.
http_run() {
  local col=$1 c=$2 t0 t1
  t0=$(cpu_ticks "$SPID")
  load timeout $((SECS + 30)) wrk -t1 -c"$c" -d"${SECS}s" "http://127.0.0.1:$PORT/" \
    >"$OUT/wrk" 2>&1
  local rc=$?
  t1=$(cpu_ticks "$SPID")
  local reqs rps bad sock
  reqs=$(awk '/ requests in / {print $1}' "$OUT/wrk")
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$OUT/wrk")
  bad=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$OUT/wrk")
  sock=$(grep 'Socket errors:' "$OUT/wrk" | sed 's/^ *//')
  printf '  %-9s http c=%-4d %8s req/s\n' "$col" "$c" "${rps:-?}" >&2
  if [ $rc -ne 0 ] || [ "${reqs:-0}" = 0 ] || [ -z "$rps" ] || [ -z "$t0" ] ||
     [ -z "$t1" ]; then
    if ! kill -0 "$SPID" 2>/dev/null; then
      error "$col" "http$c" "server died: $(grep -v '^[[:space:]]*$' \
        "$OUT/server.err" | head -n 1 | cut -c1-300)"
    else
      error "$col" "http$c" "wrk exit $rc: $(head -n 1 "$OUT/wrk" | cut -c1-300)"
    fi
    return
  fi
  [ -n "$bad" ] && error "$col" "http$c" "$bad non-2xx responses"
  # wrk prints this line only when a connection failed, or a request
  # waited more than 2 s (timeout)
  [ -n "$sock" ] && error "$col" "http$c" "wrk: $sock"
  result "$col" "http$c" rps "$rps"
  result "$col" "http$c" cpu_us "$(awk -v t=$((t1 - t0)) -v hz="$HZ" \
    -v n="$reqs" 'BEGIN { printf "%.4g", t / hz / n * 1e6 }')"
}

# echo_run COLUMN CONNS: one client run against the server on $PORT.
echo_run() {
  local col=$1 c=$2 t0 t1
  t0=$(cpu_ticks "$SPID")
  GOMAXPROCS=1 load timeout $((ECHO_SECS + 30)) "$NETBENCH" echoclient \
    -addr "127.0.0.1:$PORT" -conns "$c" -size "$ECHO_SIZE" -d "${ECHO_SECS}s" \
    >"$OUT/client" 2>&1
  local rc=$?
  t1=$(cpu_ticks "$SPID")
  local bytes mbps
  bytes=$(awk '$1 == "RESULT" && $2 == "bytes" {print $3}' "$OUT/client")
  mbps=$(awk '$1 == "RESULT" && $2 == "mbps" {print $3}' "$OUT/client")
  printf '  %-9s echo c=%-4d %8s MB/s\n' "$col" "$c" "${mbps:-?}" >&2
  if [ $rc -ne 0 ] || [ "${bytes:-0}" = 0 ] || [ -z "$t0" ] || [ -z "$t1" ]; then
    local msg
    if [ $rc -eq 124 ]; then msg="client timed out"
    else msg="client exit $rc: $(grep -v '^RESULT' "$OUT/client" | head -n 1 | cut -c1-300)"
    fi
    kill -0 "$SPID" 2>/dev/null || msg="server died: $(grep -v '^[[:space:]]*$' \
      "$OUT/server.err" | head -n 1 | cut -c1-300)"
    error "$col" "echo$c" "$msg"
    return
  fi
  result "$col" "echo$c" mbps "$mbps"
  result "$col" "echo$c" cpu_us "$(awk -v t=$((t1 - t0)) -v hz="$HZ" \
    -v b="$bytes" 'BEGIN { printf "%.4g", t / hz / (b / 1e6) * 1e6 }')"
}

echo "running (one server at a time; wrk ${SECS} s, echo ${ECHO_SECS} s):" >&2
for _ in $(seq 1 "$REPEAT"); do
  for col in $COLUMNS; do
    if ! command -v wrk >/dev/null; then
      for c in $HTTP_CONNS; do error "$col" "http$c" "wrk not installed (make deps-bench)"; done
    elif start_server "$col" http; then
      # a second of load first: JIT traces, Go's heap, nginx's Lua VM
      load timeout 30 wrk -t1 -c50 -d1s "http://127.0.0.1:$PORT/" >/dev/null 2>&1
      for c in $HTTP_CONNS; do http_run "$col" "$c"; done
      stop_server
    fi
    case $col in nginx*|*2) continue ;; esac   # no echo in these columns
    if start_server "$col" echo; then
      for c in $ECHO_CONNS; do echo_run "$col" "$c"; done
      stop_server
    fi
  done
done
echo >&2

lua5.4 bench/http/report.lua "$RESULTS" "$ERRORS" "$COLUMNS" "$SECS" "$ECHO_SECS"
[ ! -s "$ERRORS" ]
