import assert from "node:assert/strict";
import {
  bytesOverError,
  DEFAULT_IMAGE_LIMITS,
  ImageLimitError,
  parseSize,
  planImage,
} from "../../../src/image/image_limits.ts";
import { layerLimits } from "../../../src/image/unpack.ts";

const LIMITS = { maxImageBytes: 1000, maxImageEntries: 50, maxLayers: 3 };

Deno.test("planImage refuses more layers than the cap", () => {
  assert.throws(
    () => planImage([{}, {}, {}, {}], LIMITS, undefined),
    (e: unknown) =>
      e instanceof ImageLimitError &&
      /4 layers.*--max-layers \(3\)/.test(e.message),
  );
  assert.equal(planImage([{}, {}, {}], LIMITS, undefined).maxBytes, 1000);
});

Deno.test("planImage takes blob sizes as the least the layers expand to", () => {
  assert.throws(
    () => planImage([{ size: 600 }, { size: 401 }], LIMITS, undefined),
    /1001 bytes before expanding, more than --max-image-size \(1000\)/,
  );
  assert.throws(
    () => planImage([{ size: 300, cacheBytes: 300 }], LIMITS, 500),
    /needs at least 600 bytes \(its layers, plus the blobs to cache\), and the store's filesystem has 500 free/,
  );
});

Deno.test("planImage: the budget is the smaller of the cap and the free space", () => {
  const bySpace = planImage([{ size: 100, cacheBytes: 100 }], LIMITS, 700);
  assert.deepEqual(bySpace, {
    maxBytes: 600,
    boundBySpace: true,
    maxEntries: 50,
  });
  assert.match(bytesOverError(bySpace, LIMITS).message, /free space/);
  const byCap = planImage([{ size: 100 }], LIMITS, 1_000_000);
  assert.deepEqual(byCap, {
    maxBytes: 1000,
    boundBySpace: false,
    maxEntries: 50,
  });
  assert.match(
    bytesOverError(byCap, LIMITS).message,
    /--max-image-size \(1000 bytes\)/,
  );
  assert.deepEqual(
    layerLimits(byCap, { bytes: 400, entries: 45 }),
    { maxExpandedBytes: 600, maxEntries: 5 },
  );
  assert.deepEqual(
    layerLimits(byCap, { bytes: 2000, entries: 60 }),
    { maxExpandedBytes: 0, maxEntries: 0 },
  );
});

Deno.test("parseSize reads bytes and binary suffixes", () => {
  assert.equal(parseSize("512"), 512);
  assert.equal(parseSize("1K"), 1024);
  assert.equal(parseSize("64G"), DEFAULT_IMAGE_LIMITS.maxImageBytes);
  assert.equal(parseSize("2MiB"), 2 * 1024 * 1024);
  for (const bad of ["", "0", "-1", "1.5G", "12X", "G", "99999999999T"]) {
    assert.equal(parseSize(bad), undefined, bad);
  }
});
