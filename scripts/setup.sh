#!/usr/bin/env bash
# Installs what Polythene's tests need on a Debian 12 machine, as root:
# the sandbox tools (bubblewrap, proot, busybox-static, util-linux), hyperfine,
# the registry rig (docker-registry, openssl, zstd, skopeo, umoci, podman,
# debootstrap), the shells whose completions are tested (zsh, fish),
# newuidmap/newgidmap (uidmap), Deno $DENO_VERSION from the npm registry,
# the unprivileged user $TEST_USER with a subordinate id range in
# /etc/subuid and /etc/subgid (full id maps), a second user $NOSUB_USER
# with no range (faked ownership), and the npm packages pinned in deno.lock.
#
# Idempotent: a run on a machine that has everything does no apt or npm work.
set -euo pipefail

readonly DENO_VERSION=2.9.6
readonly DENO_PREFIX=/opt/polythene-deno
readonly DENO_LINK=/usr/local/bin/deno
readonly TEST_USER=polythene-test
readonly NOSUB_USER=polythene-nosub
readonly SUBID_RANGE=100000:65536
readonly APT_PACKAGES=(bubblewrap proot busybox-static util-linux hyperfine docker-registry openssl zstd skopeo umoci podman debootstrap zsh fish uidmap)

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
case ":$PATH:" in
*:/usr/local/bin:*) ;;
*) export PATH="/usr/local/bin:$PATH" ;;
esac

log() { printf 'setup: %s\n' "$*"; }
die() {
  printf 'setup: %s\n' "$*" >&2
  exit 1
}

is_installed() {
  [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true) == "install ok installed" ]]
}

install_apt_packages() {
  local missing=() pkg
  for pkg in "${APT_PACKAGES[@]}"; do
    is_installed "$pkg" || missing+=("$pkg")
  done
  # npm is how Deno gets here; Debian's own npm will do where Node is absent.
  if ! command -v deno >/dev/null && ! command -v npm >/dev/null; then
    missing+=(npm)
  fi
  ((${#missing[@]})) || return 0
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq -o Dpkg::Use-Pty=0 --no-install-recommends "${missing[@]}"
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

install_apt_packages
has_wanted_deno || install_deno

if ! id -u "$TEST_USER" >/dev/null 2>&1; then
  log "creating user $TEST_USER"
  useradd --create-home --shell /bin/sh "$TEST_USER"
fi

if ! id -u "$NOSUB_USER" >/dev/null 2>&1; then
  log "creating user $NOSUB_USER"
  useradd --create-home --shell /bin/sh "$NOSUB_USER"
fi

# Full id maps for the test user; none for the second one (useradd may have
# given it a range from /etc/login.defs).
for file in /etc/subuid /etc/subgid; do
  touch "$file"
  if ! grep -q "^$TEST_USER:" "$file"; then
    log "giving $TEST_USER the range $SUBID_RANGE in $file"
    printf '%s:%s\n' "$TEST_USER" "$SUBID_RANGE" >>"$file"
  fi
  if grep -q "^$NOSUB_USER:" "$file"; then
    log "removing $NOSUB_USER's range from $file"
    sed -i "/^$NOSUB_USER:/d" "$file"
  fi
done

if [[ -f $repo/deno.json ]]; then
  if [[ -f $repo/deno.lock ]]; then
    (cd "$repo" && deno install --frozen --quiet)
  else
    (cd "$repo" && deno install --quiet)
  fi
fi

versions=$(dpkg-query -W -f='${Package} ${Version}, ' "${APT_PACKAGES[@]}")
log "ready: deno $DENO_VERSION, ${versions%, }"
