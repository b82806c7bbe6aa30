#!/usr/bin/env bash
# Installs what Polythene's tests need on a Debian 12 machine, as root:
# the sandbox tools (bubblewrap, proot, busybox-static, util-linux), hyperfine,
# the registry rig (docker-registry, openssl, zstd, skopeo, umoci, podman,
# debootstrap), the shells whose completions are tested (zsh, fish),
# newuidmap/newgidmap (uidmap), Deno from the npm registry
# (scripts/install_deno.sh), the unprivileged user $TEST_USER with a
# subordinate id range in /etc/subuid and /etc/subgid (full id maps), a second
# user $NOSUB_USER with no range (faked ownership), and the npm packages pinned
# in deno.lock.
#
# qemu-user-static runs the arm64 test images (proot -q). binfmt-support is
# left out on purpose: with it, installing qemu-user-static registers
# host-wide binfmt_misc entries (update-binfmts), and so does systemd-binfmt at
# boot where systemd runs; without either, nothing is registered. The tests
# accept both shapes (tests/e2e/exec_arch_test.ts).
#
# Idempotent: a run on a machine that has everything does no apt or npm work.
set -euo pipefail

readonly TEST_USER=polythene-test
readonly NOSUB_USER=polythene-nosub
readonly SUBID_RANGE=100000:65536
readonly APT_PACKAGES=(bubblewrap proot busybox-static util-linux hyperfine docker-registry openssl zstd skopeo umoci podman debootstrap zsh fish gcc libc6-dev uidmap qemu-user-static)

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

install_apt_packages
bash "$repo/scripts/install_deno.sh"

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
log "ready: $(deno --version | head -n 1), ${versions%, }"
