/**
 * `polythene commit` and `export` through the real CLI, read back by
 * independent tools: an image pulled from a loopback registry is changed on
 * disk (a file deleted, a directory emptied and refilled, a file replaced
 * by a directory and back, owners, modes, links, a device), committed, and
 * exported; `umoci unpack` of the `oci` layout, `skopeo copy` of the
 * `oci-archive` and `docker-archive`, `podman load` (of the docker archive:
 * podman unpacks an OCI archive under /var/tmp, whatever TMPDIR says) +
 * `create` + `export`,
 * and the plain `tar` each give back the entry's tree. The new layer holds
 * only the difference (whiteouts, an opaque marker), and polythene's own
 * files are left out while the image's own empty `/etc/hosts` is kept.
 *
 * Needs root, docker-registry, umoci, skopeo and podman; under `CI=true` a
 * missing one fails the test.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type CliResult,
  runPolythene,
  sourceReadableBy,
} from "../helpers/cli.ts";
import {
  makeBusyboxStore,
  missingFor,
  testNeeding,
  testUser,
} from "../helpers/fixtures.ts";
import { commit, exportImage } from "../../src/mod.ts";
import { lockEntry } from "../../src/store/lock.ts";
import { buildImage } from "../helpers/oci_image.ts";
import {
  podmanStorage,
  resetPodmanStorage,
} from "../helpers/podman_storage.ts";
import {
  pushImage,
  registryMissing,
  startRegistry,
} from "../helpers/registry.ts";
import {
  assertPulled,
  busyboxEntries,
  explain,
  snapshot,
  tempStore,
} from "../helpers/pull_checks.ts";
import { decompressStream } from "../../src/image/layers/decompress.ts";
import { readTarHeaders } from "../../src/image/commit/tar_headers.ts";
import type { TarHeader } from "../../src/image/commit/tar_format.ts";

const MISSING = missingFor({
  root: true,
  programs: ["umoci", "skopeo", "podman", "tar"],
  also: [registryMissing()],
});

const LONG = `t/${"long-name-".repeat(12)}end`;

/** Where skopeo and podman put big temporary files (default /var/tmp). */
let scratch = "/tmp";

async function run(argv: string[], env?: Record<string, string>) {
  const out = await new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    env: { TMPDIR: scratch, ...env },
    stdin: "null",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, `${argv.join(" ")}: ${stderr}`);
  return new TextDecoder().decode(out.stdout);
}

function ok(result: CliResult, what: string): string {
  assert.equal(result.code, 0, `${what}\n${explain(result)}`);
  return result.stdout.trim();
}

/** The headers of a layer blob of the local image store. */
async function layerHeaders(
  store: string,
  digest: string,
  mediaType: string,
): Promise<TarHeader[]> {
  const path = `${store}/.polythene/images/blobs/${digest.replace(":", "/")}`;
  const tar = decompressStream(mediaType, (await Deno.open(path)).readable);
  const out: TarHeader[] = [];
  for await (const header of readTarHeaders(tar)) out.push(header);
  return out;
}

/** Changes the pulled tree the way a provisioning run would. */
async function provision(root: string) {
  const t = `${root}/t`;
  await Deno.remove(`${t}/gone`);
  await Deno.remove(`${t}/data/a`);
  await Deno.remove(`${t}/data/b`);
  await Deno.writeTextFile(`${t}/data/c`, "refilled\n");
  await Deno.remove(`${t}/swap`);
  await Deno.mkdir(`${t}/swap`);
  await Deno.writeTextFile(`${t}/swap/inner`, "was a file\n");
  await Deno.remove(`${t}/swapdir`, { recursive: true });
  await Deno.writeTextFile(`${t}/swapdir`, "was a directory\n");
  await Deno.writeTextFile(`${root}/${LONG}`, "long\n");
  await Deno.chmod(`${t}/keep`, 0o600);
  await Deno.writeTextFile(`${t}/owned`, "new owner\n");
  await Deno.chown(`${t}/owned`, 1234, 5678);
  await Deno.writeTextFile(`${t}/hl1`, "linked\n");
  await Deno.link(`${t}/hl1`, `${t}/hl2`);
  await Deno.symlink("../etc/hosts", `${t}/newlink`);
  await Deno.writeTextFile(`${t}/newsuid`, "s\n");
  await Deno.chmod(`${t}/newsuid`, 0o4755);
  await run(["mknod", `${t}/null`, "c", "1", "3"]);
}

testNeeding(
  MISSING,
  "commit: the difference layer reads back as the entry through umoci, skopeo, podman and tar",
  async (t) => {
    await using registry = await startRegistry();
    await using files = await tempStore();
    scratch = files.dir;
    const store = files.store;
    const image = await buildImage({
      layers: [{
        compression: "gzip",
        entries: [
          ...busyboxEntries(["true"]),
          { name: "etc/", type: "dir" },
          { name: "etc/hosts", content: "" },
          { name: "t/", type: "dir" },
          { name: "t/keep", content: "keep\n", mode: 0o644 },
          { name: "t/gone", content: "gone\n" },
          { name: "t/data/", type: "dir" },
          { name: "t/data/a", content: "a\n" },
          { name: "t/data/b", content: "b\n" },
          { name: "t/swap", content: "a file\n" },
          { name: "t/swapdir/", type: "dir" },
          { name: "t/swapdir/x", content: "x\n" },
          { name: "t/suid", content: "s\n", mode: 0o4755, uid: 10, gid: 20 },
        ],
      }, {
        compression: "gzip",
        entries: [{ name: "t/.wh.keep-not" }, {
          name: "t/upper",
          content: "from layer 2\n",
        }],
      }],
      config: { Env: ["PATH=/bin", "A=1"], WorkingDir: "/t", User: "0" },
    });
    await pushImage(registry, "test/base", "1", image);
    const uuid = assertPulled(
      await runPolythene(["pull", "-s", store, `${registry.host}/test/base:1`]),
    );
    const root = `${store}/${uuid}`;
    // Polythene makes /etc/resolv.conf and /made/here as mount points.
    ok(
      await runPolythene([
        "exec",
        "-s",
        store,
        "--isolation",
        "chroot",
        "--hosts",
        "host",
        "--workdir",
        "/made/here",
        uuid,
        "--",
        "/bin/true",
      ]),
      "exec",
    );
    assert.equal((await Deno.stat(`${root}/etc/resolv.conf`)).size, 0);
    await provision(root);
    const want = await snapshot(`${root}/t`);

    const committed = await runPolythene([
      "commit",
      "-s",
      store,
      "--change",
      "ENV=B=2",
      "--change",
      "WORKDIR=/t/data",
      "-m",
      "provisioned",
      uuid,
      "test/app:v1",
    ]);
    const digest = ok(committed, "commit");
    assert.match(digest, /^sha256:[0-9a-f]{64}$/);
    const layout = `${store}/.polythene/images`;
    const manifest = JSON.parse(
      await Deno.readTextFile(`${layout}/blobs/${digest.replace(":", "/")}`),
    );

    await t.step(
      "the image is recorded under its REF, on its base",
      async () => {
        const index = JSON.parse(
          await Deno.readTextFile(`${layout}/index.json`),
        );
        assert.deepEqual(
          index.manifests.map((d: { digest: string }) => d.digest),
          [
            digest,
          ],
        );
        assert.deepEqual(
          index.manifests[0].annotations["io.polythene.base"],
          `${registry.host}/test/base:1`,
        );
        assert.equal(
          index.manifests[0].annotations["org.opencontainers.image.ref.name"],
          "docker.io/test/app:v1",
        );
      },
    );

    await t.step("the new layer holds only the difference", async () => {
      assert.equal(manifest.layers.length, 3);
      assert.equal(
        manifest.layers[0].digest,
        image.layers[0]!.descriptor.digest,
      );
      const layer = manifest.layers[2];
      const names = (await layerHeaders(store, layer.digest, layer.mediaType))
        .map((h) => h.name.replace(/\/$/, ""));
      for (
        const name of [
          "t/.wh.gone",
          "t/data/.wh..wh..opq",
          "t/data/c",
          "t/swap/inner",
          "t/swapdir",
          LONG,
          "t/null",
        ]
      ) {
        assert.ok(names.includes(name), `${name} in ${names.join(" ")}`);
      }
      for (
        const name of [
          "bin/busybox",
          "t/suid",
          "t/upper",
          "etc/hosts",
          "etc/resolv.conf",
          "made",
          "made/here",
          ".polythene-meta",
        ]
      ) {
        assert.ok(!names.includes(name), `${name} is not in the layer`);
      }
      const config = JSON.parse(
        await Deno.readTextFile(
          `${layout}/blobs/${manifest.config.digest.replace(":", "/")}`,
        ),
      );
      assert.deepEqual(config.config.Env, ["PATH=/bin", "A=1", "B=2"]);
      assert.equal(config.config.WorkingDir, "/t/data");
      assert.equal(config.config.User, "0");
      assert.equal(config.rootfs.diff_ids.length, 3);
      assert.equal(config.history.length, 3);
      assert.equal(config.history[2].comment, "provisioned");
    });

    /** Asserts a rootfs made by another tool holds the entry's tree. */
    const assertTree = async (rootfs: string, what: string) => {
      assert.deepEqual(await snapshot(`${rootfs}/t`), want, what);
      const hosts = await Deno.lstat(`${rootfs}/etc/hosts`);
      assert.ok(hosts.isFile && hosts.size === 0, `${what}: own /etc/hosts`);
      for (const absent of ["etc/resolv.conf", "made", ".polythene-meta"]) {
        await assert.rejects(
          Deno.lstat(`${rootfs}/${absent}`),
          Deno.errors.NotFound,
          `${what}: /${absent} left out`,
        );
      }
      const dev = await Deno.lstat(`${rootfs}/t/null`);
      assert.ok(dev.isCharDevice && dev.rdev === 0x103, `${what}: t/null`);
    };
    const exported = (name: string) => `${files.dir}/${name}`;
    const exportAs = async (format: string, dest: string) =>
      ok(
        await runPolythene([
          "export",
          "-s",
          store,
          "--format",
          format,
          uuid,
          dest,
        ]),
        `export --format ${format}`,
      );

    await t.step("export --format oci, umoci unpack", async () => {
      await exportAs("oci", exported("oci"));
      await run([
        "umoci",
        "unpack",
        "--image",
        `${exported("oci")}:v1`,
        exported("umoci"),
      ]);
      await assertTree(`${exported("umoci")}/rootfs`, "umoci");
    });

    for (const format of ["oci-archive", "docker-archive"]) {
      await t.step(`export --format ${format}, skopeo copy`, async () => {
        await exportAs(format, exported(format));
        const layout = exported(`${format}-layout`);
        await run([
          "skopeo",
          "--tmpdir",
          scratch,
          "copy",
          "--quiet",
          `${format}:${exported(format)}`,
          `oci:${layout}:x`,
        ]);
        await run([
          "umoci",
          "unpack",
          "--image",
          `${layout}:x`,
          `${layout}-tree`,
        ]);
        await assertTree(`${layout}-tree/rootfs`, `skopeo ${format}`);
      });
    }

    await t.step("podman load (docker-archive) + create + export", async () => {
      const env = {
        ...await podmanStorage(files.dir, exported("storage.conf")),
        PATH: Deno.env.get("PATH")!,
      };
      // Podman's own state goes under the test's directory, not /run.
      const podman = [
        "podman",
        "--tmpdir",
        exported("podman-run"),
        "--events-backend",
        "none",
      ];
      try {
        await run(
          [...podman, "load", "-q", "-i", exported("docker-archive")],
          env,
        );
        const id = (await run(
          [...podman, "create", "docker.io/test/app:v1", "/bin/true"],
          env,
        )).trim();
        await run([...podman, "export", "-o", exported("podman.tar"), id], env);
        await Deno.mkdir(exported("podman"));
        await run([
          "tar",
          "-xpf",
          exported("podman.tar"),
          "--numeric-owner",
          "-C",
          exported("podman"),
        ]);
        assert.deepEqual(await snapshot(`${exported("podman")}/t`), want);
      } finally {
        await resetPodmanStorage(env, podman.slice(1));
      }
    });

    await t.step("export --format tar is the flattened rootfs", async () => {
      await exportAs("tar", exported("rootfs.tar"));
      await Deno.mkdir(exported("rootfs"));
      await run([
        "tar",
        "-xpf",
        exported("rootfs.tar"),
        "--numeric-owner",
        "-C",
        exported("rootfs"),
      ]);
      await assertTree(exported("rootfs"), "tar");
    });
  },
);

const USER = testUser();

testNeeding(
  USER === undefined ? 'needs the user "polythene-test"' : MISSING,
  "commit as an unprivileged user: owners and modes as extraction recorded them; unreadable files named",
  async () => {
    const user = USER!;
    await using registry = await startRegistry();
    await using files = await tempStore(user);
    const source = await sourceReadableBy(user);
    const as = { user, source: source.dir };
    try {
      const store = files.store;
      const image = await buildImage({
        layers: [{
          compression: "gzip",
          entries: [
            { name: "t/", type: "dir" },
            { name: "t/gone", content: "gone\n" },
            { name: "t/suid", content: "s\n", mode: 0o4755, uid: 10, gid: 20 },
            { name: "t/owned", content: "o\n", uid: 1234, gid: 5678 },
          ],
        }],
      });
      await pushImage(registry, "test/user", "1", image);
      const uuid = assertPulled(
        await runPolythene(
          ["pull", "-s", store, `${registry.host}/test/user:1`],
          as,
        ),
      );
      const t = `${store}/${uuid}/t`;
      // What a provisioning run as the user does, owned by the user.
      await Deno.remove(`${t}/gone`);
      await Deno.writeTextFile(`${t}/owned`, "changed\n");
      await Deno.writeTextFile(`${t}/new`, "new\n");
      await Deno.writeTextFile(`${t}/secret`, "s\n", { mode: 0o000 });
      await Deno.chmod(`${t}/secret`, 0o000);
      for (const name of ["owned", "new", "secret"]) {
        await Deno.chown(`${t}/${name}`, user.uid, user.gid);
      }
      const refused = await runPolythene(["commit", "-s", store, uuid], as);
      assert.equal(refused.code, 1, explain(refused));
      assert.match(refused.stderr, /cannot be read: \/t\/secret$/m);
      await Deno.chmod(`${t}/secret`, 0o600);

      const digest = ok(
        await runPolythene(["commit", "-s", store, uuid], as),
        "commit as the user",
      );
      const manifest = JSON.parse(
        await Deno.readTextFile(
          `${store}/.polythene/images/blobs/${digest.replace(":", "/")}`,
        ),
      );
      const layer = manifest.layers[1];
      const headers = await layerHeaders(store, layer.digest, layer.mediaType);
      const owner = (name: string) => {
        const h = headers.find((h) => h.name === name);
        return h && `${h.uid}:${h.gid} ${h.mode.toString(8)}`;
      };
      assert.equal(owner("t/owned"), "1234:5678 644", "the recorded owner");
      assert.equal(
        owner("t/new"),
        "0:0 644",
        "the user's own files are root's",
      );
      assert.equal(owner("t/secret"), "0:0 600");
      assert.equal(owner("t/.wh.gone"), "0:0 644");
      assert.equal(owner("t/suid"), undefined, "unchanged, not in the layer");

      await Deno.mkdir(`${files.dir}/out`);
      await Deno.chown(`${files.dir}/out`, user.uid, user.gid);
      const dest = `${files.dir}/out/oci`;
      ok(
        await runPolythene(
          ["export", "-s", store, "--format", "oci", uuid, dest],
          as,
        ),
        "export as the user",
      );
      await run(["umoci", "unpack", "--image", dest, `${files.dir}/tree`]);
      const tree = await snapshot(`${files.dir}/tree/rootfs/t`);
      assert.match(tree.suid!, /^file 4755 10:20 /);
      assert.match(tree.owned!, /^file 0644 1234:5678 /);
      assert.match(tree.new!, /^file 0644 0:0 /);
      assert.equal(tree.gone, undefined);
    } finally {
      await source.cleanup();
    }
  },
);

Deno.test("library: commit and exportImage of an entry with no known base", async () => {
  const staged = await makeBusyboxStore();
  try {
    const { store, uuid, rootfs } = staged;
    await Deno.writeTextFile(`${rootfs}/etc/motd`, "provisioned\n");
    await Deno.writeTextFile(`${rootfs}/.polythene-meta`, "image=busybox\n");
    const made = await commit(uuid, {
      store,
      ref: "local/busybox:1",
      compression: "zstd",
    });
    assert.equal(
      made.layer.mediaType,
      "application/vnd.oci.image.layer.v1.tar+zstd",
    );
    assert.equal(made.onBase, false);
    assert.equal(made.ref, "docker.io/local/busybox:1");
    const dest = `${staged.store}/../rootfs.tar`;
    assert.equal(
      await exportImage("local/busybox:1", dest, "tar", { store }),
      made.digest,
    );
    const listing = await run(["tar", "-tf", dest]);
    const names = listing.trim().split("\n");
    assert.ok(names.includes("bin/busybox"), "the whole tree is in the layer");
    assert.ok(names.includes("etc/motd"));
    assert.ok(!names.includes(".polythene-meta"));
  } finally {
    await staged.cleanup();
  }
});

Deno.test("commit and export failures are one clear line with the CLI's exit code", async () => {
  const staged = await makeBusyboxStore();
  try {
    const { store, uuid } = staged;
    const cli = (args: string[]) =>
      runPolythene([args[0]!, "-s", store, ...args.slice(1)]);
    const fails = async (args: string[], code: number, line: RegExp) => {
      const result = await cli(args);
      assert.equal(result.code, code, explain(result));
      assert.match(result.stderr.split("\n")[0]!, line);
      assert.equal(result.stdout, "");
    };
    await fails(
      ["commit", "0190a0b0-0000-7000-8000-0000000000ff"],
      1,
      /^polythene: No such UUID rootfs: 0190a0b0-/,
    );
    await fails(
      ["commit", "--change", "CMD=sh", uuid],
      2,
      /^polythene: Invalid --change "CMD=sh": use ENV=NAME=VALUE or WORKDIR=\/path$/,
    );
    await fails(
      ["commit", uuid, `app@sha256:${"a".repeat(64)}`],
      2,
      /^polythene: Invalid REF "app@sha256:a+": it names a digest/,
    );
    await fails(
      ["commit", uuid, "Bad/Name"],
      2,
      /^polythene: Invalid REF "Bad\/Name": /,
    );
    {
      using _held = await lockEntry(store, uuid, {
        mode: "shared",
        wait: true,
      });
      await fails(
        ["commit", uuid],
        1,
        new RegExp(
          `^polythene: Entry ${uuid} is in use .*: not committing it$`,
        ),
      );
    }
    await fails(
      ["export", "--format", "tar", "nothing:here", `${store}/../x.tar`],
      1,
      /^polythene: No local image for "nothing:here" in /,
    );
    ok(await cli(["commit", uuid]), "commit");
    const dest = `${store}/../taken.tar`;
    await Deno.writeTextFile(dest, "mine\n");
    await fails(
      ["export", "--format", "tar", uuid, dest],
      1,
      /^polythene: Cannot export to ".*taken.tar": it already exists$/,
    );
    assert.equal(await Deno.readTextFile(dest), "mine\n");
    // A link at DEST is not written through.
    await Deno.symlink(dest, `${store}/../link.tar`);
    await fails(
      ["export", "--format", "tar", uuid, `${store}/../link.tar`],
      1,
      /^polythene: Cannot export to ".*link.tar": it already exists$/,
    );
    assert.equal(await Deno.readTextFile(dest), "mine\n");
    // An empty oci DEST that others may write into (to plant links) is
    // refused; nothing is made in it.
    const open = `${store}/../open-dir`;
    await Deno.mkdir(open);
    await Deno.chmod(open, 0o777);
    await fails(
      ["export", "--format", "oci", uuid, open],
      1,
      /^polythene: Cannot export to ".*open-dir": other users may write in it \(mode 0777\)$/,
    );
    assert.deepEqual(await Array.fromAsync(Deno.readDir(open)), []);
  } finally {
    await staged.cleanup();
  }
});

Deno.test("commit names a file whose name is not UTF-8 instead of failing inside", async () => {
  const staged = await makeBusyboxStore();
  try {
    await run([
      "sh",
      "-c",
      `: > "$1/etc/$(printf 'a\\377b')"`,
      "sh",
      staged.rootfs,
    ]);
    const result = await runPolythene([
      "commit",
      "-s",
      staged.store,
      staged.uuid,
    ]);
    assert.equal(result.code, 1, explain(result));
    assert.match(
      result.stderr,
      /^polythene: Cannot commit .*: 1 name\(s\) are not UTF-8: \/etc\/a\uFFFDb$/m,
    );
  } finally {
    await staged.cleanup();
  }
});
