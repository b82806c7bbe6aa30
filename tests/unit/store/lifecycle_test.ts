import { assertEquals, assertThrows } from "../../helpers/assert.ts";
import {
  formatTable,
  humanSize,
  parseDuration,
  shortDigest,
} from "../../../src/cli/format.ts";
import { type EntryInfo, entryInfo } from "../../../src/store/entries.ts";
import { parseLegacyMeta } from "../../../src/store/metadata.ts";
import { selectForPrune, unreferencedBlobs } from "../../../src/store/prune.ts";
import { storeRootProblem } from "../../../src/store/root_safety.ts";
import { uuidV7 } from "../../../src/store/uuid_v7.ts";
import { cloneArgv } from "../../../src/store/clone.ts";
import { UsageError } from "../../../src/errors.ts";

Deno.test("parseDuration reads units, combinations and bare seconds", () => {
  assertEquals(parseDuration("90", "--older-than", "prune"), 90_000);
  assertEquals(parseDuration("30m", "--older-than", "prune"), 1_800_000);
  assertEquals(parseDuration("1d12h", "--older-than", "prune"), 129_600_000);
  assertEquals(parseDuration("2w", "--older-than", "prune"), 1_209_600_000);
  for (const bad of ["", "7 days", "d", "-1d", "1y"]) {
    assertThrows(() => parseDuration(bad, "--older-than", "prune"), UsageError);
  }
});

Deno.test("humanSize uses binary units; null is a dash", () => {
  assertEquals(humanSize(0), "0 B");
  assertEquals(humanSize(1023), "1023 B");
  assertEquals(humanSize(1536), "1.5 KiB");
  assertEquals(humanSize(20 * 1024 * 1024), "20 MiB");
  assertEquals(humanSize(3.3 * 1024 ** 3), "3.3 GiB");
  assertEquals(humanSize(null), "-");
});

Deno.test("formatTable aligns columns and right-aligns sizes", () => {
  assertEquals(
    formatTable(["A", "SIZE", "C"], [["xx", "1 B", ""], ["y", "10 KiB", "z"]], [
      "SIZE",
    ]),
    "A     SIZE  C\nxx     1 B\ny   10 KiB  z",
  );
  assertEquals(shortDigest(`sha256:${"ab".repeat(32)}`), "sha256:abababababab");
});

const NOW = Date.parse("2026-01-10T00:00:00Z");

function entry(uuid: string, modified: string, extra: Partial<EntryInfo> = {}) {
  return {
    ...entryInfo(uuid, `/s/${uuid}`, new Date(modified), undefined, undefined),
    ...extra,
  };
}

Deno.test("selectForPrune: --older-than, --all, and dead ephemeral clones", () => {
  const old = entry("old", "2026-01-01T00:00:00Z");
  const fresh = entry("fresh", "2026-01-09T23:00:00Z");
  const eph = entry("eph", "2026-01-09T23:59:00Z", { ephemeral: true });
  const all = [old, fresh, eph];
  const pick = (filter: { all?: boolean; olderThanMs?: number }) =>
    selectForPrune(all, { all: false, now: NOW, ...filter }).map((s) =>
      `${s.entry.uuid}:${s.reason}`
    );
  assertEquals(pick({}), ["eph:ephemeral"]);
  assertEquals(pick({ olderThanMs: 7 * 86_400_000 }), [
    "old:older-than",
    "eph:ephemeral",
  ]);
  assertEquals(pick({ all: true }), ["old:all", "fresh:all", "eph:all"]);
  // The filters narrow: both together select what is older, not everything.
  assertEquals(pick({ all: true, olderThanMs: 7 * 86_400_000 }), [
    "old:older-than",
    "eph:ephemeral",
  ]);
});

Deno.test("unreferencedBlobs keeps referenced blobs and is conservative", () => {
  const a = "sha256:" + "a".repeat(64);
  const b = "sha256:" + "b".repeat(64);
  const with_ = entry("x", "2026-01-01T00:00:00Z", {
    kind: "pulled",
    puller: "native",
    blobs: [a],
  });
  assertEquals(unreferencedBlobs([a, b], [with_]), {
    digests: [b],
    keptAll: false,
  });
  const legacy = entry("l", "2026-01-01T00:00:00Z", { kind: "legacy" });
  assertEquals(unreferencedBlobs([a, b], [legacy]).digests, [a, b]);
  const unknown = entry("u", "2026-01-01T00:00:00Z", {
    kind: "pulled",
    puller: "native",
  });
  assertEquals(unreferencedBlobs([a, b], [with_, unknown]), {
    digests: [],
    keptAll: true,
  });
});

Deno.test("storeRootProblem refuses symlinks, other owners and loose modes", () => {
  const dir = { isSymlink: false, isDirectory: true, uid: 1000, mode: 0o700 };
  assertEquals(storeRootProblem(dir, 1000), undefined);
  assertEquals(storeRootProblem({ ...dir, mode: 0o755 }, 1000), undefined);
  assertEquals(
    storeRootProblem({ ...dir, isSymlink: true }, 1000),
    "it is a symlink",
  );
  assertEquals(
    storeRootProblem(dir, 0),
    "it is owned by uid 1000, not by you (uid 0)",
  );
  assertEquals(
    storeRootProblem({ ...dir, mode: 0o777 }, 1000),
    "it is writable by group and others (mode 0777)",
  );
  assertEquals(
    storeRootProblem({ ...dir, mode: 0o1770 }, 1000),
    "it is writable by its group (mode 1770)",
  );
});

Deno.test("storeRootProblem as root refuses any group or other bit", () => {
  const dir = { isSymlink: false, isDirectory: true, uid: 0, mode: 0o700 };
  assertEquals(storeRootProblem(dir, 0), undefined);
  assertEquals(storeRootProblem({ ...dir, mode: 0o1700 }, 0), undefined);
  for (const mode of [0o755, 0o711, 0o701, 0o750, 0o704]) {
    assertEquals(
      storeRootProblem({ ...dir, mode }, 0),
      `as root it must be reachable by you alone (mode 0${
        mode.toString(8)
      }), or other users could run the images' setuid programs`,
    );
  }
  // Write is still reported first.
  assertEquals(
    storeRootProblem({ ...dir, mode: 0o777 }, 0),
    "it is writable by group and others (mode 0777)",
  );
});

Deno.test("legacy metadata and entry info", () => {
  const legacy = parseLegacyMeta(
    "image=alpine:3\ncreated=2020-01-02T03:04:05Z\n",
  );
  assertEquals(legacy, { image: "alpine:3", created: "2020-01-02T03:04:05Z" });
  const info = entryInfo("u", "/s/u", new Date(0), undefined, legacy);
  assertEquals(info.kind, "legacy");
  assertEquals(info.image, "alpine:3");
  assertEquals(info.size, null);
});

Deno.test("uuidV7 is a version 7 UUID that sorts by time", () => {
  const zero = new Uint8Array(10);
  const a = uuidV7(1_000, zero);
  const b = uuidV7(2_000, zero);
  assertEquals(a, "00000000-03e8-7000-8000-000000000000");
  assertEquals(a < b, true);
});

Deno.test("cloneArgv copies the tree's contents with reflink=auto", () => {
  assertEquals(cloneArgv("/usr/bin/cp", "/s/a", "/s/.polythene/staging/b"), [
    "/usr/bin/cp",
    "-a",
    "--reflink=auto",
    "--",
    "/s/a/.",
    "/s/.polythene/staging/b/",
  ]);
});

Deno.test("a legacy .polythene-meta that is a symlink is never followed", async () => {
  const { readLegacyMetaFile } = await import("../../../src/store/metadata.ts");
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/secret`, "image=host-secret\n");
    await Deno.mkdir(`${dir}/entry`);
    await Deno.symlink(`${dir}/secret`, `${dir}/entry/.polythene-meta`);
    let refused = false;
    try {
      await readLegacyMetaFile(`${dir}/entry`);
    } catch {
      refused = true;
    }
    if (!refused) throw new Error("the symlink was followed");
    await Deno.remove(`${dir}/entry/.polythene-meta`);
    await Deno.writeTextFile(`${dir}/entry/.polythene-meta`, "image=a\n");
    if (await readLegacyMetaFile(`${dir}/entry`) !== "image=a\n") {
      throw new Error("a regular file was not read");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
