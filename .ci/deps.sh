#!/usr/bin/env bash
# Install the Debian 12 packages lugo needs and does not have yet.
# Usage: .ci/deps.sh [test|bench|fuzz]  (run by every make target; cheap when all is
# present). As root it runs apt-get; otherwise it prints the command and fails.
# Everything goes to stderr, so `eval "$(make -s env)"` sees only the exports.
set -u
exec >&2

missing=()
need() {
  for p; do [[ " ${missing[*]} " == *" $p "* ]] || missing+=("$p"); done
}
has() { command -v "$1" >/dev/null 2>&1; }
pc() { pkg-config --exists "$1" 2>/dev/null; }
# Can clang link a libFuzzer target? That is the only question for fuzz.
links() {
  local t; t=$(mktemp -d)
  printf '%s\n' '#include <stddef.h>' \
    'int LLVMFuzzerTestOneInput(const char *d, size_t n) {' \
    '  (void)d; (void)n; return 0; }' >"$t/f.c"
  clang -fsanitize=fuzzer,address,undefined -o "$t/f" "$t/f.c" \
    >/dev/null 2>&1
  local rc=$?; rm -rf "$t"; return $rc
}

has pkg-config || need pkg-config
has lua5.4     || need lua5.4
pc lua5.4      || need liblua5.4-dev
# Any LuaJIT that pkg-config finds will do.
pc luajit      || need luajit2 libluajit2-5.1-dev
has luajit     || need luajit2
pc libuv       || need libuv1-dev
has busted     || need lua-busted
has luarocks   || need luarocks
if [ "${1:-}" = test ] || [ "${1:-}" = bench ]; then
  # the specs talk to real clients (curl, wrk) and drive the REPL
  # through a pseudo-terminal (script)
  has curl   || need curl
  has wrk    || need wrk
  has script || need bsdutils
fi
if [ "${1:-}" = fuzz ]; then
  # clang, and libFuzzer's runtime, which Debian ships apart from clang
  if ! has clang; then
    need clang libclang-rt-dev
  elif ! links; then
    need "libclang-rt-$(clang -dumpversion | cut -d. -f1)-dev"
  fi
fi
if [ "${1:-}" = bench ]; then
  has go  || need golang-go
  # bench/net.sh: nginx with lua-nginx-module (content_by_lua_block), which
  # runs on the OpenResty LuaJIT (luajit2) that lugo uses already. Where
  # services start on install (no policy-rc.d saying no), the package's
  # own nginx starts on port 80; the benchmark runs a private one.
  has nginx || [ -x /usr/sbin/nginx ] || need nginx
  dpkg -s libnginx-mod-http-lua >/dev/null 2>&1 || need libnginx-mod-http-lua
fi

[ ${#missing[@]} -eq 0 ] && exit 0
install="apt-get install -y ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "lugo needs these Debian packages: ${missing[*]}"
  echo "Install them as root, then run make again:"
  echo "  sudo apt-get update && sudo $install"
  exit 1
fi
echo "Installing ${missing[*]} ..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq && $install -qq >/dev/null || {
  echo "failed: apt-get update && $install"; exit 1; }
