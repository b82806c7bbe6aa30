#!/usr/bin/env bash
# A smoke set for a compiled polythene binary, as root: doctor, a pull of a
# local OCI layout, an exec on each backend this host allows, and the
# completions. Used by the release workflow for the aarch64 binary under
# qemu-user, where the e2e suite would be too slow.
#
#   bash scripts/smoke_binary.sh BINARY [PLATFORM]
#
# PLATFORM (os/arch) is the busybox image's, which is this host's busybox:
# give it when BINARY runs under emulation and would otherwise pick its own.
set -euo pipefail
bin=$(realpath "$1")
platform=${2:-}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 0700 "$work"

"$bin" --version
"$bin" doctor --store "$work/store"
deno run -A "$repo/scripts/busybox_image.ts" "$work/img"
uuid=$("$bin" pull -q --store "$work/store" ${platform:+--platform "$platform"} "oci:$work/img:latest")
for backend in bubblewrap proot chroot; do
  out=$("$bin" exec --verbose --store "$work/store" --isolation "$backend" "$uuid" -- sh -c 'echo ok' 2>"$work/err")
  [ "$out" = ok ] || { cat "$work/err" >&2; echo "smoke: exec on $backend printed: $out" >&2; exit 1; }
  if grep -q "using backend $backend\$" "$work/err"; then
    echo "smoke: exec on $backend ok"
  else
    echo "smoke: $backend cannot run here; exec used $(grep -o 'using backend .*' "$work/err")"
  fi
done
"$bin" completions bash | grep -q polythene
echo "smoke: all passed"
