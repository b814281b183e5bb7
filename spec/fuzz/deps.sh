#!/usr/bin/env bash
# Install what `make fuzz` needs, as .ci/deps.sh does for the rest: clang and
# libFuzzer's runtime (Debian ships it apart from clang, in
# libclang-rt-<version>-dev). As root it runs apt-get; otherwise it prints
# the command and fails. Everything goes to stderr.
set -u
exec >&2

missing=()
need() {
  for p; do [[ " ${missing[*]} " == *" $p "* ]] || missing+=("$p"); done
}
has() { command -v "$1" >/dev/null 2>&1; }
# Can clang link a fuzzer? That is the only question that matters.
links() {
  local t; t=$(mktemp -d)
  printf '%s\n' '#include <stddef.h>' \
    'int LLVMFuzzerTestOneInput(const char *d, size_t n) {' \
    '  (void)d; (void)n; return 0; }' >"$t/f.c"
  clang -fsanitize=fuzzer,address,undefined -o "$t/f" "$t/f.c" \
    >/dev/null 2>&1
  local rc=$?; rm -rf "$t"; return $rc
}

if ! has clang; then
  need clang libclang-rt-dev
elif ! links; then
  need "libclang-rt-$(clang -dumpversion | cut -d. -f1)-dev"
fi

[ ${#missing[@]} -eq 0 ] && exit 0
install="apt-get install -y ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "make fuzz needs these Debian packages: ${missing[*]}"
  echo "Install them as root, then run make fuzz again:"
  echo "  sudo apt-get update && sudo $install"
  exit 1
fi
echo "Installing ${missing[*]} ..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq && $install -qq >/dev/null || {
  echo "failed: apt-get update && $install"; exit 1; }
