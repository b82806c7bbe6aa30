#!/usr/bin/env bash
# Size and start-up of a polythene binary, printed for the release log:
# the file's size, then the median and fastest wall time of `--version` and
# of `exec -- /bin/true` on a busybox rootfs in a temporary store (warm
# probe cache, the backend exec picks), over RUNS runs each (default 20).
#
#   bash scripts/binary_startup.sh BINARY [RUNS]
#
# Needs deno and Debian's busybox-static (for the rootfs), as the ci set-up
# installs them. Exits non-zero when BINARY fails a run.
set -euo pipefail
shopt -s inherit_errexit
bin=$(realpath "$1")
runs=${2:-20}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 0700 "$work"

size=$(stat -c %s "$bin")
echo "binary: $(basename "$bin"): $size bytes ($((size / 1048576)) MiB)"

# Milliseconds of one run of "$@", its output discarded; fails with it.
ms() {
  local start end
  start=$(date +%s%N)
  "$@" >/dev/null 2>&1 </dev/null ||
    { echo "binary_startup: failed: $*" >&2; return 1; }
  end=$(date +%s%N)
  echo $(((end - start) / 1000000))
}

# Prints "median X ms, fastest Y ms over N runs" for "$@".
timed() {
  local i times=()
  for ((i = 0; i < runs; i++)); do times+=("$(ms "$@")"); done
  sort -n <<<"$(printf '%s\n' "${times[@]}")" >"$work/times"
  echo "median $(sed -n "$(((runs + 1) / 2))p" "$work/times") ms," \
    "fastest $(head -n 1 "$work/times") ms over $runs runs"
}

uuid=$(deno run -A "$repo/scripts/busybox_rootfs.ts" "$work/store")
exec_true=("$bin" exec --store "$work/store" "$uuid" -- /bin/true)
# Warms the probe cache (and fails loudly if exec fails); names the backend.
"${exec_true[@]}" >/dev/null
backend=$("$bin" exec --verbose --store "$work/store" "$uuid" -- /bin/true 2>&1 |
  sed -n 's/.*using backend \([a-z]*\)$/\1/p' | head -n 1)
version=$(timed "$bin" --version)
echo "start-up: --version: $version"
exec_ms=$(timed "${exec_true[@]}")
echo "start-up: exec -- /bin/true (${backend:-no backend}): $exec_ms"
