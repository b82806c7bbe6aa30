import { assertEquals } from "../../helpers/assert.ts";
import { type EntryInfo, entryInfo } from "../../../src/store/entries.ts";
import type { EntryMetadata } from "../../../src/store/metadata.ts";
import { newestMatch, referenceKey } from "../../../src/image/reuse.ts";
import { parseImageSource } from "../../../src/image/source.ts";

const REF = "docker.io/library/busybox:latest";
const AMD64 = { os: "linux", architecture: "amd64" };

/** An entry as `list` reads it, from the metadata `pull` writes. */
function entry(
  uuid: string,
  created: string,
  more: Partial<EntryMetadata> = {},
): EntryInfo {
  const meta: EntryMetadata = {
    schema: 1,
    uuid,
    reference: "busybox",
    normalized: REF,
    digest: "sha256:aa",
    platform: AMD64,
    created,
    size: 1,
    ...more,
  };
  return entryInfo(uuid, `/s/${uuid}`, new Date(0), meta, undefined);
}

const key = (image: string) => referenceKey(parseImageSource(image), image);

Deno.test("registry references match normalised; other forms as given", () => {
  assertEquals(key("busybox"), REF);
  assertEquals(key("docker.io/library/busybox"), REF);
  assertEquals(key("busybox:1"), "docker.io/library/busybox:1");
  assertEquals(key("oci:/tmp/x:latest"), "oci:/tmp/x:latest");
});

Deno.test("the newest entry of the reference wins; others never match", () => {
  const old = entry("01", "2026-01-01T00:00:00.000Z");
  const newer = entry("02", "2026-02-01T00:00:00.000Z");
  const otherRef = entry("03", "2026-03-01T00:00:00.000Z", {
    normalized: "docker.io/library/alpine:latest",
  });
  const clone = entry("04", "2026-04-01T00:00:00.000Z", { parent: "02" });
  const copy = entry("05", "2026-05-01T00:00:00.000Z", { ephemeral: true });
  const all = [newer, old, otherRef, clone, copy];
  assertEquals(newestMatch(all, { key: REF })?.uuid, "02");
  assertEquals(newestMatch([old], { key: REF })?.uuid, "01");
  assertEquals(newestMatch([clone, copy, otherRef], { key: REF }), undefined);
  // Same creation time: the greater UUIDv7, made later.
  const twin = entry("06", "2026-02-01T00:00:00.000Z");
  assertEquals(newestMatch([twin, newer], { key: REF })?.uuid, "06");
});

Deno.test("a digest or platform asked for must be the entry's", () => {
  const a = entry("01", "2026-01-01T00:00:00.000Z", { digest: "sha256:aa" });
  const b = entry("02", "2026-02-01T00:00:00.000Z", { digest: "sha256:bb" });
  assertEquals(
    newestMatch([a, b], { key: REF, digest: "sha256:aa" })?.uuid,
    "01",
  );
  assertEquals(
    newestMatch([a, b], { key: REF, digest: "sha256:cc" }),
    undefined,
  );
  const arm = entry("03", "2026-03-01T00:00:00.000Z", {
    platform: { os: "linux", architecture: "arm64" },
  });
  assertEquals(
    newestMatch([a, arm], { key: REF, platform: AMD64 })?.uuid,
    "01",
  );
  assertEquals(
    newestMatch([a, arm], {
      key: REF,
      platform: { os: "linux", architecture: "arm64", variant: "v8" },
    })?.uuid,
    "03",
  );
});
