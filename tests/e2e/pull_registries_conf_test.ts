/**
 * `polythene pull` through registries.conf, with real `docker-registry`
 * instances on loopback: a short name resolved through
 * `unqualified-search-registries` (the first registry lacks the image)
 * under `permissive` and refused as ambiguous under `enforcing`; an alias
 * that resolves it under `enforcing`; a mirror that is down, then one that
 * serves; a blocked registry; a drop-in that overrides the main file.
 *
 * Isolation from this host's `/etc/containers`: each run has its own
 * `HOME` holding `.config/containers/registries.conf`, which (as in
 * containers/image) makes the system file and drop-in directory unread.
 * `CONTAINERS_REGISTRIES_CONF`, which keeps the system drop-ins, is tested
 * in a private mount namespace whose `/etc/containers` is a tmpfs holding
 * only the test's drop-in (root and `unshare` needed for that part).
 *
 * Needs docker-registry; under `CI=true` a missing one fails instead.
 *
 * @module
 */

import assert from "node:assert/strict";
import { runPolythene } from "../helpers/cli.ts";
import { onPath, testNeeding } from "../helpers/fixtures.ts";
import { isolatedHome } from "../helpers/isolated_home.ts";
import { buildImage } from "../helpers/oci_image.ts";
import {
  assertEntry,
  assertFailed,
  assertPulled,
  entries,
  explain,
  readMetadata,
  tempStore,
} from "../helpers/pull_checks.ts";
import {
  freePort,
  pushImage,
  registryMissing,
  startRegistry,
} from "../helpers/registry.ts";

testNeeding(
  registryMissing(),
  "pull: registries.conf search, aliases, mirrors, blocks, drop-ins",
  async (t) => {
    await using lacking = await startRegistry();
    await using serving = await startRegistry();
    await using files = await tempStore();
    const image = await buildImage({
      layers: [{
        compression: "gzip",
        entries: [{ name: "hello", content: "from the serving registry\n" }],
      }],
    });
    await pushImage(serving, "polytest/app", "1", image);
    const store = files.store;
    const { conf: userConf, env } = await isolatedHome(files.dir);

    const pull = async (ref: string, conf: string, ...flags: string[]) => {
      await Deno.writeTextFile(userConf, conf);
      return await runPolythene(
        ["pull", "-q", "--store", store, ...flags, ref],
        { env },
      );
    };
    const assertServed = async (uuid: string, ref: string) => {
      assert.equal(
        await Deno.readTextFile(`${store}/${uuid}/hello`),
        "from the serving registry\n",
      );
      await assertEntry(store, uuid, { image: ref, digest: image.digest });
    };
    const search =
      `unqualified-search-registries = ["${lacking.host}", "${serving.host}"]\n`;

    await t.step(
      "permissive: a short name found in the second registry",
      async () => {
        const result = await pull(
          "polytest/app:1",
          `${search}short-name-mode = "permissive"\n`,
          "--verbose",
        );
        const uuid = assertPulled(result);
        await assertServed(uuid, "polytest/app:1");
        const meta = await readMetadata(store, uuid);
        assert.equal(meta.normalized, `${serving.host}/polytest/app:1`);
        assert.match(
          result.stderr,
          new RegExp(
            `trying ${lacking.host}/polytest/app:1 .*unqualified-search-registries in ${userConf}`,
          ),
          explain(result),
        );
      },
    );

    await t.step("enforcing: the same short name is ambiguous", async () => {
      const before = await entries(store);
      const result = await pull(
        "polytest/app:1",
        `${search}short-name-mode = "enforcing"\n`,
      );
      await assertFailed(result, {
        store,
        image: "polytest/app:1",
        before,
        matches: /ambiguous/,
      });
      assert.ok(
        result.stderr.includes(`${lacking.host}/polytest/app`) &&
          result.stderr.includes(`${serving.host}/polytest/app`),
        `lists the candidates\n${explain(result)}`,
      );
    });

    await t.step("enforcing: an alias resolves it", async () => {
      const uuid = assertPulled(
        await pull(
          "myapp:1",
          `${search}short-name-mode = "enforcing"\n[aliases]\n"myapp" = "${serving.host}/polytest/app"\n`,
        ),
      );
      await assertServed(uuid, "myapp:1");
    });

    await t.step("a mirror that is down, then one that serves", async () => {
      const down = `127.0.0.1:${freePort()}`;
      const ref = `${lacking.host}/polytest/app:1`;
      const result = await pull(
        ref,
        `[[registry]]\nlocation = "${lacking.host}"\n` +
          `[[registry.mirror]]\nlocation = "${down}"\n` +
          `[[registry.mirror]]\nlocation = "${serving.host}"\n`,
        "--verbose",
      );
      const uuid = assertPulled(result);
      await assertServed(uuid, ref);
      assert.match(result.stderr, /trying .* mirror #1 /, explain(result));
      assert.match(result.stderr, /trying .* mirror #2 /, explain(result));
    });

    await t.step("a blocked registry is refused", async () => {
      const before = await entries(store);
      const ref = `${serving.host}/polytest/app:1`;
      await assertFailed(
        await pull(
          ref,
          `[[registry]]\nlocation = "${serving.host}"\nblocked = true\n`,
        ),
        { store, image: ref, before, matches: /blocked/ },
      );
    });

    await t.step("a drop-in file overrides the main file", async () => {
      const dropIn = `${userConf}.d/50-test.conf`;
      await Deno.writeTextFile(
        dropIn,
        `unqualified-search-registries = ["${serving.host}"]\n`,
      );
      try {
        const before = await entries(store);
        // The main file alone names only the registry that lacks it.
        const uuid = assertPulled(
          await pull(
            "polytest/app:1",
            `unqualified-search-registries = ["${lacking.host}"]\nshort-name-mode = "enforcing"\n`,
          ),
        );
        await assertServed(uuid, "polytest/app:1");
        await Deno.remove(dropIn);
        await assertFailed(
          await pull(
            "polytest/app:1",
            `unqualified-search-registries = ["${lacking.host}"]\n`,
          ),
          { store, image: "polytest/app", before: [...before, uuid] },
        );
      } finally {
        await Deno.remove(dropIn).catch(() => {});
      }
    });
  },
);

/**
 * Runs the CLI in its own mount namespace where `/etc/containers` is an
 * empty tmpfs, then holds only `files` (copied in from the test's
 * directory): the host's configuration is out of sight.
 */
function privateEtcContainers(files: Record<string, string>): string[] {
  const copies = Object.entries(files).map(([to, from]) =>
    `mkdir -p "$(dirname /etc/containers/${to})" && cp "${from}" /etc/containers/${to}`
  );
  return [
    "unshare",
    "--mount",
    "--propagation",
    "private",
    "--",
    "sh",
    "-c",
    [
      "set -e",
      "mount -t tmpfs -o size=1m,mode=0755 polythene-test /etc/containers",
      ...copies,
      'exec "$@"',
    ].join("\n"),
    "sh",
  ];
}

testNeeding(
  registryMissing() ??
    (Deno.uid() !== 0 || !onPath("unshare")
      ? "needs root and unshare (a private /etc/containers)"
      : undefined),
  "pull: CONTAINERS_REGISTRIES_CONF, with the system drop-ins, over the user's file",
  async (t) => {
    await using lacking = await startRegistry();
    await using serving = await startRegistry();
    await using files = await tempStore();
    const image = await buildImage({
      layers: [{
        compression: "gzip",
        entries: [{ name: "hello", content: "from the serving registry\n" }],
      }],
    });
    await pushImage(serving, "polytest/app", "1", image);
    const { conf: userConf, env } = await isolatedHome(files.dir);
    // The user's file would block the serving registry: it must not apply.
    await Deno.writeTextFile(
      userConf,
      `[[registry]]\nlocation = "${serving.host}"\nblocked = true\n`,
    );
    const main = `${files.dir}/main.conf`;
    await Deno.writeTextFile(
      main,
      `unqualified-search-registries = ["${lacking.host}"]\nshort-name-mode = "enforcing"\n`,
    );
    const dropIn = `${files.dir}/50-search.conf`;
    await Deno.writeTextFile(
      dropIn,
      `unqualified-search-registries = ["${serving.host}"]\n`,
    );
    const prefix = privateEtcContainers({
      "registries.conf.d/50-search.conf": dropIn,
    });
    const store = files.store;

    await t.step(
      "the named file, then /etc/containers/registries.conf.d",
      async () => {
        const result = await runPolythene(
          ["pull", "--verbose", "--store", store, "polytest/app:1"],
          { env: { ...env, CONTAINERS_REGISTRIES_CONF: main }, prefix },
        );
        const uuid = assertPulled(result);
        assert.equal(
          await Deno.readTextFile(`${store}/${uuid}/hello`),
          "from the serving registry\n",
        );
        assert.match(
          result.stderr,
          new RegExp(
            `registries configuration: ${main}, /etc/containers/registries.conf.d/50-search.conf\n`,
          ),
          explain(result),
        );
      },
    );

    await t.step(
      "a missing CONTAINERS_REGISTRIES_CONF file is an error",
      async () => {
        const before = await entries(store);
        await assertFailed(
          await runPolythene(
            ["pull", "-q", "--store", store, "polytest/app:1"],
            {
              env: {
                ...env,
                CONTAINERS_REGISTRIES_CONF: `${files.dir}/none.conf`,
              },
              prefix,
            },
          ),
          { store, image: "polytest/app:1", before, matches: /none\.conf/ },
        );
      },
    );
  },
);
