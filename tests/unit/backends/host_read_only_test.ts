import { assertEquals } from "../../helpers/assert.ts";
import { bubblewrap } from "../../../src/backends/bubblewrap.ts";
import {
  HOST_READ_ONLY_SCRIPT,
  withHostReadOnly,
} from "../../../src/backends/host_read_only.ts";
import type { RunSpec } from "../../../src/backends/backend.ts";

const programs = {
  bwrap: "/b/bwrap",
  sh: "/b/sh",
  unshare: "/b/unshare",
  mount: "/b/mount",
};
const spec: RunSpec = {
  rootfs: "/store/u",
  argv: ["true"],
  env: {},
  cwd: "/",
  terminal: false,
  mounts: [
    { source: "/data", target: "/data", readOnly: false },
    { source: "/ro", target: "/ro", readOnly: true },
    { source: "/run/x/hosts", target: "/etc/hosts", readOnly: true },
  ],
};

Deno.test("as real root, bwrap starts where only the rootfs and writable binds are writable", () => {
  const argv = bubblewrap.invocation(spec, { uid: 0, realRoot: true }, programs)
    .argv;
  assertEquals(argv.slice(0, 11), [
    "/b/unshare",
    "--mount",
    "--propagation",
    "private",
    "--",
    "/b/sh",
    "-c",
    HOST_READ_ONLY_SCRIPT,
    "polythene-host-ro",
    "/b/mount",
    "2",
  ]);
  assertEquals(argv.slice(11, 14), ["/store/u", "/data", "/b/bwrap"]);
});

Deno.test("as another user, bwrap starts as it is", () => {
  const argv = bubblewrap.invocation(
    spec,
    { uid: 1000, realRoot: false },
    programs,
  ).argv;
  assertEquals(argv[0], "/b/bwrap");
});

Deno.test("withHostReadOnly passes paths as arguments, never in the script", () => {
  const argv = withHostReadOnly(programs, ["/a b", "$(x)"], ["/bin/cmd"]);
  assertEquals(argv.slice(-4), ["2", "/a b", "$(x)", "/bin/cmd"]);
  assertEquals(HOST_READ_ONLY_SCRIPT.includes("/a b"), false);
});
