/**
 * Finding and signalling the processes of a sandbox from the host. Deno may
 * not read `/proc`, so a fixed `sh` script does it with shell built-ins.
 *
 * @module
 */

import type { Invocation } from "./backend.ts";
import { DEFAULT_PATH } from "./backend.ts";

/**
 * Sends signal `$1` to processes related to pid `$3`; `$2` says which:
 *
 * - `grandchildren`: the children of `$3`'s children, or `$3` itself when it
 *   has none yet. bwrap and the chroot script put a pid-1 process between
 *   polythene's child and the command; `unshare` blocks SIGTERM and SIGINT,
 *   bwrap dies of them without passing them on, and pid 1 ignores them, so
 *   only the command itself (and any orphan pid 1 adopted) can be signalled.
 * - `tracees`: every process whose `TracerPid` is `$3` (proot), repeated for
 *   SIGKILL until none is left, since a tracee may fork meanwhile.
 */
export const SIGNAL_TREE_SCRIPT = `sig=$1 mode=$2 top=$3
having() {
  for f in /proc/[0-9]*/status; do
    while read -r key value; do
      if [ "$key" = "$1:" ]; then
        if [ "$value" = "$2" ]; then p=\${f#/proc/}; echo "\${p%/status}"; fi
        break
      fi
    done < "$f" 2>/dev/null
  done
}
case $mode in
grandchildren)
  pids=
  for init in $(having PPid "$top"); do pids="$pids $(having PPid "$init")"; done
  kill -s "$sig" \${pids:-$top} 2>/dev/null
  ;;
tracees)
  for round in 1 2 3 4 5 6 7 8 9 10; do
    pids=$(having TracerPid "$top")
    [ -n "$pids" ] || exit 0
    kill -s "$sig" $pids 2>/dev/null
    [ "$sig" = KILL ] || exit 0
  done
  ;;
esac
exit 0
`;

/** Which processes {@linkcode SIGNAL_TREE_SCRIPT} signals. */
export type SignalTarget = "grandchildren" | "tracees";

/** The invocation of {@linkcode SIGNAL_TREE_SCRIPT}. Pure. */
export function signalTree(
  sh: string,
  target: SignalTarget,
  pid: number,
  signal: Deno.Signal,
): Invocation {
  return {
    argv: [
      sh,
      "-c",
      SIGNAL_TREE_SCRIPT,
      "polythene-signal",
      signal.replace(/^SIG/, ""),
      target,
      String(pid),
    ],
    env: { PATH: DEFAULT_PATH },
    statusFd: false,
  };
}
