import assert from "node:assert/strict";
import { withinCaps } from "../../../src/image/stacked_unpack.ts";
import { DEFAULT_IMAGE_LIMITS } from "../../../src/image/image_limits.ts";

const A = `sha256:${"a".repeat(64)}`;
const B = `sha256:${"b".repeat(64)}`;

Deno.test("withinCaps: a cached stack obeys the pull's image caps", () => {
  const record = { tarBytes: 1000, entries: 10, layers: [A, B] };
  assert.equal(withinCaps(record, {}), true);
  assert.equal(
    withinCaps(record, { limits: { maxImageBytes: undefined } }),
    true,
  );
  assert.equal(withinCaps(record, { limits: { maxImageBytes: 1000 } }), true);
  assert.equal(withinCaps(record, { limits: { maxImageBytes: 999 } }), false);
  assert.equal(withinCaps(record, { limits: { maxImageEntries: 9 } }), false);
  assert.equal(withinCaps(record, { limits: { maxLayers: 1 } }), false);
  assert.equal(
    withinCaps(
      { ...record, entries: DEFAULT_IMAGE_LIMITS.maxImageEntries + 1 },
      {},
    ),
    false,
  );
});
