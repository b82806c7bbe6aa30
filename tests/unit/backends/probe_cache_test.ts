import { assertEquals } from "../../helpers/assert.ts";
import { ProbeCache, probeKey } from "../../../src/backends/probe_cache.ts";
import { isRealRoot, OVERFLOW_UID } from "../../../src/backends/host.ts";

const host = { uid: 1000, realRoot: false, kernel: "6.1.0" };
const programs = { bwrap: { path: "/usr/bin/bwrap", fingerprint: "1:2:3" } };

Deno.test("the probe key changes with the binary, the uid and the kernel", () => {
  const key = probeKey("bubblewrap", programs, host);
  assertEquals(key === probeKey("bubblewrap", programs, { ...host }), true);
  const changed = [
    probeKey("proot", programs, host),
    probeKey("bubblewrap", {
      bwrap: { path: "/usr/bin/bwrap", fingerprint: "9:2:3" },
    }, host),
    probeKey("bubblewrap", {
      bwrap: { path: "/opt/bwrap", fingerprint: "1:2:3" },
    }, host),
    probeKey("bubblewrap", programs, { ...host, uid: 0 }),
    probeKey("bubblewrap", programs, { ...host, realRoot: true }),
    probeKey("bubblewrap", programs, { ...host, kernel: "6.2.0" }),
  ];
  for (const other of changed) assertEquals(other === key, false, other);
});

Deno.test("mapped root is not real root", () => {
  assertEquals(isRealRoot(0, 0), true);
  assertEquals(isRealRoot(0, OVERFLOW_UID), false);
  assertEquals(isRealRoot(1000, 0), false);
  assertEquals(isRealRoot(0, null), false);
});

Deno.test("the cache survives a reload and treats garbage as empty", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/state/probes.json`;
    const record = { ok: false, reason: "nope", probedAt: "2026-01-01" };
    new ProbeCache(file).set("k", record);
    assertEquals(new ProbeCache(file).get("k"), record);
    assertEquals((await Deno.stat(file)).mode! & 0o777, 0o600);
    new ProbeCache(file).set("k", undefined);
    assertEquals(new ProbeCache(file).get("k"), undefined);
    await Deno.writeTextFile(file, "{not json");
    assertEquals(new ProbeCache(file).get("k"), undefined);
    await Deno.writeTextFile(file, "[1,2]");
    assertEquals(new ProbeCache(file).get("0"), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an unwritable cache location is not an error", () => {
  const cache = new ProbeCache("/proc/polythene-cannot-write/probes.json");
  cache.set("k", { ok: true, probedAt: "x" });
  assertEquals(cache.get("k")?.ok, true);
});
