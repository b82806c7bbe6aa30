import { strict as assert } from "node:assert";
import {
  aptMirror,
  type DebianImageMetadata,
  debootstrapArgv,
  IMAGE_PATH,
  imageConfig,
  mountsUnder,
  parseMetadata,
  secondStageArgv,
  tarArgv,
} from "../../scripts/_debian_image.ts";

const DEB822 = `Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
`;

Deno.test("aptMirror() reads the URIs of a deb822 stanza serving the suite", () => {
  assert.equal(
    aptMirror([{
      path: "/etc/apt/sources.list.d/debian.sources",
      text: DEB822,
    }], "bookworm"),
    "http://deb.debian.org/debian",
  );
});

Deno.test("aptMirror() skips deb-src, disabled and other-suite stanzas", () => {
  const text = `Types: deb-src
URIs: http://src.example/debian
Suites: bookworm

Types: deb
URIs: http://off.example/debian
Suites: bookworm
Enabled: no

Types: deb
URIs: http://old.example/debian
Suites: bullseye

Types: deb deb-src
URIs: http://mirror.example/debian/
Suites: bookworm
`;
  assert.equal(
    aptMirror([{ path: "/x/a.sources", text }], "bookworm"),
    "http://mirror.example/debian",
  );
});

Deno.test("aptMirror() reads one-line entries, options in brackets included", () => {
  const text = `# comment
deb-src http://src.example/debian bookworm main
deb [arch=amd64 signed-by=/k.gpg] http://one.example/debian bookworm main
deb http://two.example/debian bookworm main
`;
  assert.equal(
    aptMirror([{ path: "/etc/apt/sources.list", text }], "bookworm"),
    "http://one.example/debian",
  );
});

Deno.test("aptMirror() keeps apt's file order and ignores files apt ignores", () => {
  const files = [
    {
      path: "/etc/apt/sources.list.d/a.list.disabled-by-farm",
      text: "deb http://ignored.example/debian bookworm main\n",
    },
    { path: "/etc/apt/sources.list", text: "" },
    {
      path: "/etc/apt/sources.list.d/b.list",
      text: "deb http://first.example/debian bookworm main\n",
    },
    { path: "/etc/apt/sources.list.d/c.sources", text: DEB822 },
  ];
  assert.equal(aptMirror(files, "bookworm"), "http://first.example/debian");
});

Deno.test("aptMirror() is undefined when no source serves the suite", () => {
  assert.equal(
    aptMirror([{ path: "/x/a.sources", text: DEB822 }], "trixie"),
    undefined,
  );
  assert.equal(aptMirror([], "bookworm"), undefined);
});

Deno.test("debootstrapArgv() asks for minbase bookworm from the mirror", () => {
  assert.deepEqual(debootstrapArgv("/c/root", "http://m/debian"), [
    "debootstrap",
    "--variant=minbase",
    "bookworm",
    "/c/root",
    "http://m/debian",
  ]);
});

Deno.test("debootstrapArgv() with an arch runs the first stage only", () => {
  assert.deepEqual(debootstrapArgv("/c/root", "http://m/debian", "arm64"), [
    "debootstrap",
    "--foreign",
    "--arch=arm64",
    "--variant=minbase",
    "bookworm",
    "/c/root",
    "http://m/debian",
  ]);
});

Deno.test("secondStageArgv() finishes it under proot -q, registering nothing", () => {
  const argv = secondStageArgv(
    "/usr/bin/proot",
    "/usr/bin/qemu-aarch64-static",
    "/c/root",
  );
  assert.deepEqual(argv.slice(0, 6), [
    "/usr/bin/proot",
    "-0",
    "-q",
    "/usr/bin/qemu-aarch64-static",
    "-r",
    "/c/root",
  ]);
  assert.deepEqual(argv.slice(-2), [
    "/debootstrap/debootstrap",
    "--second-stage",
  ]);
});

Deno.test("tarArgv() packs numeric owners, sorted, with members after --", () => {
  const argv = tarArgv("/c/root", ["usr", "-weird", "bin", "etc"]);
  assert.equal(argv[0], "tar");
  for (
    const flag of [
      "--numeric-owner",
      "--sort=name",
      "--format=pax",
      "--one-file-system",
      "--xattrs",
      "--directory=/c/root",
    ]
  ) {
    assert.ok(argv.includes(flag), flag);
  }
  const dashdash = argv.indexOf("--");
  assert.deepEqual(argv.slice(dashdash + 1), ["-weird", "bin", "etc", "usr"]);
});

function meta(
  overrides: Partial<DebianImageMetadata> = {},
): DebianImageMetadata {
  return {
    version: 1,
    suite: "bookworm",
    variant: "minbase",
    mirror: "http://deb.debian.org/debian",
    platform: { os: "linux", architecture: "amd64" },
    digest: `sha256:${"a".repeat(64)}`,
    size: 100,
    diffId: `sha256:${"b".repeat(64)}`,
    tarSize: 300,
    created: "2026-01-01T00:00:00.000Z",
    debootstrapSeconds: 30.5,
    packSeconds: 6,
    resolvConfFromHost: true,
    ...overrides,
  };
}

Deno.test("parseMetadata() reads back what the builder writes", () => {
  const written = meta({
    platform: { os: "linux", architecture: "arm64", variant: "v8" },
  });
  assert.deepEqual(parseMetadata(JSON.stringify(written)), written);
});

Deno.test("parseMetadata() refuses partial or malformed records", () => {
  assert.equal(parseMetadata(""), undefined);
  assert.equal(parseMetadata("{"), undefined);
  assert.equal(parseMetadata("null"), undefined);
  assert.equal(parseMetadata("[]"), undefined);
  const { diffId: _, ...noDiffId } = meta();
  assert.equal(parseMetadata(JSON.stringify(noDiffId)), undefined);
  for (
    const bad of [
      { version: 2 },
      { suite: "trixie" },
      { variant: "buildd" },
      { digest: "sha256:abc" },
      { diffId: "md5:" + "b".repeat(64) },
      { size: 0 },
      { tarSize: 1.5 },
      { platform: { os: "linux" } },
    ]
  ) {
    assert.equal(
      parseMetadata(JSON.stringify({ ...meta(), ...bad })),
      undefined,
      JSON.stringify(bad),
    );
  }
});

Deno.test("imageConfig() sets PATH, Cmd bash, the platform and the one diff_id", () => {
  const config = imageConfig(meta());
  assert.deepEqual(config.config, {
    Env: [`PATH=${IMAGE_PATH}`],
    Cmd: ["bash"],
  });
  assert.equal(config.os, "linux");
  assert.equal(config.architecture, "amd64");
  assert.equal("variant" in config, false);
  assert.deepEqual(config.rootfs, {
    type: "layers",
    diff_ids: [`sha256:${"b".repeat(64)}`],
  });
  assert.equal(config.history.length, 1);
  const arm = imageConfig(
    meta({ platform: { os: "linux", architecture: "arm64", variant: "v8" } }),
  );
  assert.equal(arm.variant, "v8");
});

const MOUNTINFO = [
  "22 1 254:0 / / rw,relatime - ext4 /dev/vda rw",
  "30 22 0:5 / /proc rw - proc proc rw",
  "90 22 0:40 / /var/cache/t/.build-1/rootfs/proc rw - proc proc rw",
  "91 22 0:41 / /var/cache/t/.build-1/rootfs/sys rw - sysfs sysfs rw",
  "92 91 0:42 / /var/cache/t/.build-1/rootfs/sys/fs/cgroup rw - cgroup2 c rw",
  "93 22 0:43 / /var/cache/t/.build-10/rootfs/proc rw - proc proc rw",
  "94 22 0:44 / /var/cache/t/.build-1/with\\040space rw - tmpfs t rw",
  "",
].join("\n");

Deno.test("mountsUnder() lists mounts inside the tree, deepest first", () => {
  assert.deepEqual(mountsUnder(MOUNTINFO, "/var/cache/t/.build-1/"), [
    "/var/cache/t/.build-1/rootfs/sys/fs/cgroup",
    "/var/cache/t/.build-1/rootfs/proc",
    "/var/cache/t/.build-1/with space",
    "/var/cache/t/.build-1/rootfs/sys",
  ]);
});

Deno.test("mountsUnder() is empty for a tree with nothing mounted", () => {
  assert.deepEqual(mountsUnder(MOUNTINFO, "/var/cache/t/.build-2"), []);
});
