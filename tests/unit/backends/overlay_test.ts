import { assertEquals } from "../../helpers/assert.ts";
import type { OverlayPlan, RunSpec } from "../../../src/backends/backend.ts";
import { bubblewrap } from "../../../src/backends/bubblewrap.ts";
import {
  OVERLAY_SCRIPT,
  overlayOptions,
  resultOptions,
  safeOptionPath,
  withOverlay,
} from "../../../src/backends/overlay.ts";
import { recordMountPoints } from "../../../src/exec/mount_point.ts";
import { keepArgv } from "../../../src/exec/overlay_run.ts";
import { HOST_READ_ONLY_SCRIPT } from "../../../src/backends/host_read_only.ts";

const plan: OverlayPlan = {
  lower: "/s/u",
  upper: "/s/run/r/overlay/upper",
  work: "/s/run/r/overlay/work",
  merged: "/s/run/r/overlay/merged",
  unshare: "/b/unshare",
  mount: "/b/mount",
  sh: "/b/sh",
  create: [{ kind: "file", path: "/etc/hosts" }],
};
const spec: RunSpec = {
  rootfs: plan.merged,
  argv: ["true"],
  env: {},
  cwd: "/",
  terminal: false,
  overlay: plan,
};
const programs = {
  bwrap: "/b/bwrap",
  sh: "/b/sh",
  unshare: "/b/unshare",
  mount: "/b/mount",
};
const ROOT = { uid: 0, realRoot: true };
const USER = { uid: 1000, realRoot: false };
const mountArgs = (opts: string) => [
  "/b/sh",
  "-c",
  OVERLAY_SCRIPT,
  "polythene-overlay",
  "/b/mount",
  opts,
  plan.merged,
  "1",
  "file",
  "/etc/hosts",
];
const OPTS = "lowerdir=/s/u,upperdir=/s/run/r/overlay/upper," +
  "workdir=/s/run/r/overlay/work";

Deno.test("overlay options name the three layers; userxattr in a user namespace", () => {
  assertEquals(overlayOptions(plan, false), `${OPTS},volatile`);
  assertEquals(overlayOptions(plan, true), `${OPTS},userxattr,volatile`);
  assertEquals(
    resultOptions(plan, true),
    "ro,lowerdir=/s/run/r/overlay/upper:/s/u,userxattr",
  );
});

Deno.test("paths overlayfs options cannot carry fall back to the copy", () => {
  for (const bad of ["/a,b", "/a:b", "/a\\b", "/a\nb", "rel", '/a"b']) {
    assertEquals(safeOptionPath(bad), false, bad);
    assertEquals(overlayOptions({ ...plan, lower: bad }, false), undefined);
  }
  assertEquals(safeOptionPath("/tmp/a b/store-1.x"), true);
});

Deno.test("as root the overlay is mounted in a private mount namespace before the backend", () => {
  const inner = { argv: ["/b/x", "run"], env: {}, statusFd: true };
  const out = withOverlay(inner, spec, ROOT);
  assertEquals(out.argv, [
    "/b/unshare",
    "--mount",
    "--propagation",
    "private",
    "--",
    ...mountArgs(`${OPTS},volatile`),
    "/b/x",
    "run",
  ]);
  assertEquals(out.overlaid, true);
  assertEquals(withOverlay(out, spec, ROOT), out, "never twice");
  const plain = { ...spec, overlay: undefined };
  assertEquals(withOverlay(inner, plain, ROOT), inner);
});

Deno.test("unprivileged, the overlay is mounted in a user namespace with userxattr", () => {
  const inner = { argv: ["/b/x"], env: {}, statusFd: true };
  assertEquals(withOverlay(inner, spec, USER).argv, [
    "/b/unshare",
    "--user",
    "--map-root-user",
    "--mount",
    "--",
    ...mountArgs(`${OPTS},userxattr,volatile`),
    "/b/x",
  ]);
});

Deno.test("full id maps mount the overlay in their own namespace, where bwrap runs", () => {
  const full: RunSpec = {
    ...spec,
    idMap: {
      mode: "full",
      unshare: "/b/unshare",
      helperPath: "/h",
      forced: false,
    },
  };
  const inv = withOverlay(
    bubblewrap.invocation(full, USER, programs),
    full,
    USER,
  );
  assertEquals(inv.argv.slice(0, 6), [
    "/b/unshare",
    "--user",
    "--map-auto",
    "--map-root-user",
    "--mount",
    "--",
  ]);
  assertEquals(inv.argv.slice(6, 16), mountArgs(`${OPTS},userxattr,volatile`));
  assertEquals(inv.argv[16], "/b/bwrap");
  assertEquals(inv.argv.filter((a) => a === "/b/unshare").length, 1);
});

Deno.test("missing mount points are recorded once, parents first", () => {
  const made: { kind: "dir" | "file"; path: string }[] = [];
  const record = recordMountPoints(made);
  if (typeof record === "string") throw new Error("a recorder");
  record([], "a", "dir");
  record(["a"], "b", "file");
  record([], "a", "dir");
  assertEquals(made, [
    { kind: "dir", path: "/a" },
    { kind: "file", path: "/a/b" },
  ]);
});

Deno.test("--keep copies the read-only result in the run's own id mapping", () => {
  const full = {
    mode: "full" as const,
    unshare: "/b/unshare",
    helperPath: "/h",
    forced: false,
  };
  const k = keepArgv(plan, USER, full, "/b/cp", "/s/stage", "/usr/bin");
  assertEquals(k.argv.slice(0, 5), [
    "/b/unshare",
    "--user",
    "--map-auto",
    "--map-root-user",
    "--mount",
  ]);
  assertEquals(k.argv.slice(-6), [
    "/b/cp",
    "-a",
    "--reflink=auto",
    "--",
    `${plan.merged}/.`,
    "/s/stage/",
  ]);
  assertEquals(k.argv.includes(resultOptions(plan, true)!), true);
  assertEquals(k.env.PATH, "/usr/bin:/h");
  const root = keepArgv(plan, ROOT, undefined, "/b/cp", "/s/stage", "/p");
  assertEquals(root.argv.slice(0, 4), [
    "/b/unshare",
    "--mount",
    "--propagation",
    "private",
  ]);
  assertEquals(root.argv.includes(resultOptions(plan, false)!), true);
});

Deno.test("as root, bwrap's read-only host is made in the overlay's own namespace", () => {
  const inv = withOverlay(
    bubblewrap.invocation(spec, ROOT, programs),
    spec,
    ROOT,
  );
  assertEquals(inv.overlaid, true);
  assertEquals(inv.argv.slice(0, 5), [
    "/b/unshare",
    "--mount",
    "--propagation",
    "private",
    "--",
  ]);
  assertEquals(inv.argv.slice(5, 15), mountArgs(`${OPTS},volatile`));
  assertEquals(inv.argv.filter((a) => a === "/b/unshare").length, 1);
  const ro = inv.argv.indexOf(HOST_READ_ONLY_SCRIPT);
  assertEquals(inv.argv.slice(ro + 2, ro + 5), ["/b/mount", "1", plan.merged]);
  assertEquals(inv.argv[ro + 5], "/b/bwrap");
});
