/**
 * `polythene pull` through the real CLI from every source form: a real
 * registry on loopback (OCI and Docker schema 2 media types, gzip, zstd and
 * uncompressed layers with whiteouts, opaque directories, hardlinks,
 * symlinks and type changes, by tag, by digest, with `docker://`), an OCI
 * layout directory, an oci-archive and docker-archives of both styles. Each
 * pull must give exactly the same tree, which `exec` then runs in.
 * Platforms and refusals are in `pull_references_test.ts`.
 *
 * Needs root (owners and setuid bits are kept), docker-registry, zstd and
 * bwrap; under `CI=true` a missing one fails instead of skipping.
 *
 * @module
 */

import assert from "node:assert/strict";
import { runPolythene } from "../helpers/cli.ts";
import { missingFor, testNeeding } from "../helpers/fixtures.ts";
import {
  buildImage,
  type LayerSpec,
  writeDockerArchive,
  writeOciArchive,
  writeOciLayout,
} from "../helpers/oci_image.ts";
import {
  pushImage,
  type Registry,
  startRegistry,
} from "../helpers/registry.ts";
import {
  assertEntry,
  assertPulled,
  BUSYBOX,
  busyboxEntries,
  dirLine,
  explain,
  fileLine,
  snapshot,
  type TempStore,
  tempStore,
} from "../helpers/pull_checks.ts";

const MISSING = missingFor({
  root: true,
  programs: ["docker-registry", "zstd", "bwrap"],
});

const CONFIG = { Env: ["PATH=/bin", "GREETING=hi"], Cmd: ["/bin/sh"] };

/** Three layers, one per compression, exercising every layer rule. */
function layeredSpecs(): LayerSpec[] {
  return [{
    compression: "gzip",
    entries: [
      ...busyboxEntries(),
      { name: "etc/", type: "dir" },
      { name: "etc/hello", content: "hello from layer 1\n" },
      { name: "etc/gone", content: "removed by layer 2\n" },
      { name: "opaque/", type: "dir" },
      { name: "opaque/lower", content: "lower\n" },
      { name: "opaque/sub/", type: "dir" },
      { name: "opaque/sub/deep", content: "deep\n" },
      { name: "dir2file/", type: "dir" },
      { name: "dir2file/inside", content: "inside\n" },
      { name: "file2dir", content: "was a file\n" },
      { name: "data/", type: "dir" },
      { name: "data/original", content: "shared\n", mode: 0o640 },
      { name: "data/hard", type: "hardlink", linkname: "data/original" },
      { name: "usr/", type: "dir" },
      { name: "usr/bin/", type: "dir" },
      { name: "usr/bin/suid", content: "suid\n", mode: 0o4755 },
      { name: "home/", type: "dir" },
      { name: "home/user/", type: "dir", uid: 1000, gid: 1000, mode: 0o750 },
      { name: "home/user/notes", content: "mine\n", uid: 1000, gid: 1000 },
    ],
  }, {
    compression: "zstd",
    entries: [
      { name: "etc/.wh.gone" },
      { name: "etc/hello", content: "hello from layer 2\n" },
      { name: "opaque/", type: "dir" },
      { name: "opaque/.wh..wh..opq" },
      { name: "opaque/upper", content: "upper\n" },
      { name: "dir2file", content: "now a file\n" },
      { name: "file2dir/", type: "dir", mode: 0o700 },
      { name: "file2dir/inside", content: "now a dir\n" },
      { name: "data/hard2", type: "hardlink", linkname: "data/original" },
      { name: "lib/", type: "dir" },
      { name: "lib/abs", type: "symlink", linkname: "/etc/hello" },
      { name: "lib/rel", type: "symlink", linkname: "../etc/hello" },
    ],
  }, {
    compression: "none",
    entries: [
      { name: "data/.wh.hard" },
      { name: "etc/motd", content: "layer 3\n", mode: 0o600 },
    ],
  }];
}

/** The tree those layers must give, exactly (as root). */
function expectedTree(): Record<string, string> {
  const link = "symlink -> busybox";
  return {
    "bin": dirLine(),
    "bin/busybox": fileLine(0o755, Deno.readFileSync(BUSYBOX)),
    "bin/cat": link,
    "bin/echo": link,
    "bin/id": link,
    "bin/ls": link,
    "bin/sh": link,
    "bin/stat": link,
    "data": dirLine(),
    "data/hard2": fileLine(0o640, "shared\n", "0:0", "data/hard2"),
    "data/original": fileLine(0o640, "shared\n", "0:0", "data/hard2"),
    "dev": dirLine(),
    "dir2file": fileLine(0o644, "now a file\n"),
    "etc": dirLine(),
    "etc/hello": fileLine(0o644, "hello from layer 2\n"),
    "etc/motd": fileLine(0o600, "layer 3\n"),
    "file2dir": dirLine(0o700),
    "file2dir/inside": fileLine(0o644, "now a dir\n"),
    "home": dirLine(),
    "home/user": dirLine(0o750, "1000:1000"),
    "home/user/notes": fileLine(0o644, "mine\n", "1000:1000"),
    "lib": dirLine(),
    "lib/abs": "symlink -> /etc/hello",
    "lib/rel": "symlink -> ../etc/hello",
    "opaque": dirLine(),
    "opaque/upper": fileLine(0o644, "upper\n"),
    "proc": dirLine(),
    "tmp": dirLine(0o1777),
    "usr": dirLine(),
    "usr/bin": dirLine(),
    "usr/bin/suid": fileLine(0o4755, "suid\n"),
  };
}

testNeeding(
  MISSING,
  "pull: every source form gives the same exact tree",
  async (t) => {
    await using registry = await startRegistry();
    await using files = await tempStore();
    await sameTree(t, registry, files);
  },
);

async function sameTree(
  t: Deno.TestContext,
  registry: Registry,
  files: TempStore,
): Promise<void> {
  const oci = await buildImage({ layers: layeredSpecs(), config: CONFIG });
  const docker = await buildImage({
    layers: layeredSpecs(),
    config: CONFIG,
    format: "docker",
  });
  await pushImage(registry, "test/layered", "oci", oci);
  await pushImage(registry, "test/layered", "docker", docker);
  const store = files.store;
  const want = expectedTree();

  /** Pulls `image`, checks the tree and the metadata. */
  const pullOk = async (image: string, digest?: string) => {
    const uuid = assertPulled(
      await runPolythene(["pull", "--quiet", "--store", store, image]),
    );
    assert.deepEqual(await snapshot(`${store}/${uuid}`), want);
    await assertEntry(store, uuid, {
      image,
      digest,
      config: CONFIG,
      platform: { os: "linux", architecture: "amd64" },
    });
    return uuid;
  };

  await t.step("registry, OCI media types, then exec in it", async () => {
    const uuid = await pullOk(`${registry.host}/test/layered:oci`, oci.digest);
    const script = "cat /etc/hello /lib/abs; ls /opaque; cat /data/hard2; " +
      "stat -c %a /usr/bin/suid";
    const argv = ["--store", store, uuid, "--", "sh", "-c", script];
    const ran = await runPolythene(["exec", ...argv]);
    assert.equal(ran.code, 0, explain(ran));
    assert.equal(
      ran.stdout,
      "hello from layer 2\nhello from layer 2\nupper\nshared\n4755\n",
    );
  });

  await t.step("registry, Docker schema 2 media types", async () => {
    await pullOk(`${registry.host}/test/layered:docker`, docker.digest);
  });

  await t.step("docker:// prefix and a pinned digest", async () => {
    await pullOk(
      `docker://${registry.host}/test/layered@${oci.digest}`,
      oci.digest,
    );
  });

  await t.step("oci:DIR:TAG", async () => {
    const dir = `${files.dir}/layout`;
    await writeOciLayout(dir, oci, "v1");
    // A second tag, so that the TAG has to be picked.
    await writeOciLayout(dir, await buildImage({ layers: [] }), "other");
    await pullOk(`oci:${dir}:v1`);
  });

  await t.step("oci-archive:FILE:TAG", async () => {
    const file = `${files.dir}/image.oci.tar`;
    await writeOciArchive(file, oci, "v1");
    await pullOk(`oci-archive:${file}:v1`);
  });

  for (const style of ["podman", "legacy"] as const) {
    await t.step(`docker-archive:FILE (${style} style)`, async () => {
      const file = `${files.dir}/image.${style}.tar`;
      await writeDockerArchive(file, docker, ["test/layered:1"], { style });
      await pullOk(`docker-archive:${file}`);
    });
  }
}
