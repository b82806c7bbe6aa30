/**
 * On ext4, the directories new entries are made in carry `+T`
 * (`src/store/spread.ts`), read back with `lsattr`; another file system
 * cannot show it, so under `CI=true` this fails there instead of skipping.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createStaging, stagingRoot } from "../../src/store/staging.ts";
import { runRoot } from "../../src/store/run_dir.ts";
import { LayerStacks, stacksDir } from "../../src/store/layer_stacks.ts";
import { testNeeding } from "../helpers/fixtures.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes).trim();

/** The file system type `stat -f` names for `dir` ("ext2/ext3" for ext4). */
function fsType(dir: string): string {
  const out = new Deno.Command("stat", { args: ["-f", "-c", "%T", dir] })
    .outputSync();
  return text(out.stdout);
}

/** The attribute letters `lsattr -d` prints for `dir`. */
function attributes(dir: string): string {
  const out = new Deno.Command("lsattr", { args: ["-d", dir] }).outputSync();
  assert.equal(out.success, true, text(out.stderr));
  return text(out.stdout).split(/\s+/)[0]!;
}

const tmp = Deno.makeTempDirSync({ prefix: "polythene-spread-" });
const type = fsType(tmp);
Deno.removeSync(tmp);

testNeeding(
  type === "ext2/ext3" ? undefined : `an ext4 temp dir (it is ${type})`,
  "staging, the run root and the layer-stack cache carry ext4's +T (new entries spread over block groups)",
  async () => {
    const store = await Deno.makeTempDir({ prefix: "polythene-spread-" });
    try {
      const lines: string[] = [];
      const staging = await createStaging(
        store,
        crypto.randomUUID(),
        (l) => lines.push(l),
      );
      assert.match(attributes(stagingRoot(store)), /T/);
      assert.match(attributes(runRoot(store)), /T/);
      assert.doesNotMatch(attributes(staging.dir), /T/, "not inherited");
      assert.deepEqual(lines, [
        `new entries are spread over block groups (chattr +T ${
          stagingRoot(store)
        })`,
        `new entries are spread over block groups (chattr +T ${
          runRoot(store)
        })`,
      ]);
      await staging.discard();
      await new LayerStacks(store).begin("k", "o");
      assert.match(attributes(stacksDir(store)), /T/);
    } finally {
      await Deno.remove(store, { recursive: true });
    }
  },
);
