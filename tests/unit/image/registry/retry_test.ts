import { assertEquals } from "../../../helpers/assert.ts";
import {
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  isRetryableStatus,
  parseRetryAfter,
  retryDelay,
} from "../../../../src/image/registry/retry.ts";

const NOW = Date.parse("2025-01-01T00:00:00Z");

Deno.test("Retry-After as seconds or an HTTP date", () => {
  assertEquals(parseRetryAfter("3", NOW), 3000);
  assertEquals(parseRetryAfter(" 0 ", NOW), 0);
  assertEquals(parseRetryAfter("Wed, 01 Jan 2025 00:00:10 GMT", NOW), 10_000);
  assertEquals(parseRetryAfter("Tue, 31 Dec 2024 23:59:00 GMT", NOW), 0);
  assertEquals(parseRetryAfter("-1", NOW), undefined);
  assertEquals(parseRetryAfter("1.5", NOW), undefined);
  assertEquals(parseRetryAfter("soon", NOW), undefined);
  assertEquals(parseRetryAfter(null, NOW), undefined);
});

Deno.test("backoff doubles from the base, up to the cap, scaled", () => {
  const policy = { ...DEFAULT_RETRY_POLICY };
  assertEquals(
    [1, 2, 3, 4, 5, 6, 7, 100].map((n) => backoffDelay(n, policy)),
    [250, 500, 1000, 2000, 4000, 8000, 8000, 8000],
  );
  assertEquals(backoffDelay(3, { ...policy, scale: 0.01 }), 10);
});

Deno.test("retryDelay takes the larger of backoff and Retry-After, capped", () => {
  const policy = { ...DEFAULT_RETRY_POLICY };
  assertEquals(retryDelay(1, policy), 250);
  assertEquals(retryDelay(1, policy, 5000), 5000);
  assertEquals(retryDelay(4, policy, 100), 2000);
  assertEquals(retryDelay(1, policy, 3_600_000), 30_000);
  assertEquals(retryDelay(1, { ...policy, scale: 0.001 }, 3_600_000), 30);
});

Deno.test("retryable statuses: 408, 429 and 5xx but 501 and 505", () => {
  const retryable = [408, 429, 500, 502, 503, 504, 599];
  const final = [200, 206, 301, 400, 401, 403, 404, 416, 501, 505];
  for (const s of retryable) assertEquals(isRetryableStatus(s), true, `${s}`);
  for (const s of final) assertEquals(isRetryableStatus(s), false, `${s}`);
});
