/**
 * Finding and signalling the processes of a sandbox from the host. Deno may
 * not read `/proc`, so a fixed `sh` script does it with shell built-ins.
 *
 * @module
 */

import type { Invocation } from "./backend.ts";
import { DEFAULT_PATH } from "./backend.ts";

/**
 * Sends signal `$1` to processes related to pid `$3`; `$2` says which. With
 * `$4` = `child`, `$3` is first replaced by its (only) child: the backend
 * when polythene started `script` to give the command a pty of its own
 * (`pty.ts`); then, for SIGKILL, that backend is killed too, so that
 * `script` can end by itself and give the caller's terminal back in the mode
 * it found it.
 *
 * - `grandchildren`: the children of `$3`'s children, or `$3` itself when it
 *   has none yet. bwrap and the chroot script put a pid-1 process between
 *   polythene's child and the command; `unshare` blocks SIGTERM and SIGINT,
 *   bwrap dies of them without passing them on, and pid 1 ignores them, so
 *   only the command itself (and any orphan pid 1 adopted) can be signalled.
 * - `tracees`: every process whose `TracerPid` is `$3` (proot), repeated for
 *   SIGKILL until none is left, since a tracee may fork meanwhile.
 */
export const SIGNAL_TREE_SCRIPT = `sig=$1 mode=$2 top=$3 under=\${4-}
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
if [ "$under" = child ]; then
  set -- $(having PPid "$top")
  [ -n "\${1-}" ] || exit 0
  top=$1
fi
case $mode in
grandchildren)
  pids=
  for init in $(having PPid "$top"); do pids="$pids $(having PPid "$init")"; done
  kill -s "$sig" \${pids:-$top} 2>/dev/null
  ;;
tracees)
  for round in 1 2 3 4 5 6 7 8 9 10; do
    pids=$(having TracerPid "$top")
    [ -n "$pids" ] || break
    kill -s "$sig" $pids 2>/dev/null
    [ "$sig" = KILL ] || break
  done
  ;;
esac
if [ "$under" = child ] && [ "$sig" = KILL ]; then kill -s KILL "$top" 2>/dev/null; fi
exit 0
`;

/** Which processes {@linkcode SIGNAL_TREE_SCRIPT} signals. */
export type SignalTarget = "grandchildren" | "tracees";

/**
 * The invocation of {@linkcode SIGNAL_TREE_SCRIPT}; with `underChild`, for
 * the tree under `pid`'s child (`pid` is `script`, see `pty.ts`). Pure.
 */
export function signalTree(
  sh: string,
  target: SignalTarget,
  pid: number,
  signal: Deno.Signal,
  underChild = false,
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
      ...(underChild ? ["child"] : []),
    ],
    env: { PATH: DEFAULT_PATH },
    statusFd: false,
  };
}
