#!/usr/bin/env bash
# Installs the pinned Deno from the npm registry and links it as
# /usr/local/bin/deno, as root. Needs npm. Used by scripts/setup.sh and, on
# its own, by the release workflow's build job, which needs Deno and nothing
# else of the test set-up.
#
# Idempotent: does nothing when that Deno is already on PATH.
set -euo pipefail

readonly DENO_VERSION=2.9.6
readonly DENO_PREFIX=/opt/polythene-deno
readonly DENO_LINK=/usr/local/bin/deno

case ":$PATH:" in
*:/usr/local/bin:*) ;;
*) export PATH="/usr/local/bin:$PATH" ;;
esac

log() { printf 'install_deno: %s\n' "$*"; }
die() {
  printf 'install_deno: %s\n' "$*" >&2
  exit 1
}

has_wanted_deno() {
  local version
  version=$(deno --version 2>/dev/null) || return 1
  [[ $version == "deno $DENO_VERSION "* ]]
}

is_elf() {
  [[ -f $1 && $(head -c 4 "$1" | tail -c 3) == ELF ]]
}

# The npm package "deno" ships its binary in a per-platform optional
# dependency; its postinstall only links that binary into place, so it is
# skipped and the platform package's binary is used directly.
install_deno() {
  local arch candidate
  case $(uname -m) in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) die "No Deno build on npm for this machine: $(uname -m)" ;;
  esac
  command -v npm >/dev/null || die "Cannot install Deno: npm is missing"
  log "installing deno $DENO_VERSION from npm into $DENO_PREFIX"
  npm install --prefix "$DENO_PREFIX" --ignore-scripts --no-audit --no-fund \
    --loglevel=error "deno@$DENO_VERSION"
  for candidate in \
    "$DENO_PREFIX/node_modules/@deno/linux-$arch-glibc/deno" \
    "$DENO_PREFIX/node_modules/deno/deno"; do
    if is_elf "$candidate"; then
      chmod 0755 "$candidate"
      ln -sfn "$candidate" "$DENO_LINK"
      hash -r
      has_wanted_deno || die "deno on PATH is not $DENO_VERSION: $(command -v deno)"
      return 0
    fi
  done
  die "No Deno binary found under $DENO_PREFIX/node_modules"
}

has_wanted_deno || install_deno
