import { assertEquals } from "../../helpers/assert.ts";
import {
  setupPrivateBinfmt,
  withPrivateBinfmtIfPossible,
} from "../../../src/backends/binfmt_host.ts";
import type { Emulation } from "../../../src/backends/emulation.ts";
import { ProbeCache } from "../../../src/backends/probe_cache.ts";

const EMULATION: Emulation = {
  platform: "linux/arm64/v8",
  arch: "aarch64",
  qemu: "/usr/bin/qemu-aarch64-static",
};
const HOST = { uid: 1000, realRoot: false, kernel: "6.18.4" };

/** A run directory, an empty PATH directory and a cache, removed after. */
async function withRun(
  fn: (where: {
    runDir: string;
    hostPath: string;
    cache: ProbeCache;
  }) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/run`);
    await Deno.mkdir(`${dir}/path`);
    await fn({
      runDir: `${dir}/run`,
      hostPath: `${dir}/path`,
      cache: new ProbeCache(`${dir}/probes.json`),
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("an old kernel is refused before anything runs or is made", async () => {
  await withRun(async (where) => {
    const out = await setupPrivateBinfmt(EMULATION, {
      ...where,
      host: { ...HOST, kernel: "6.6.1" },
    });
    assertEquals(
      out,
      "kernel 6.6.1 is older than 6.7, which gives a user namespace a binfmt_misc of its own",
    );
    assertEquals([...Deno.readDirSync(where.runDir)], []);
  });
});

Deno.test("the programs the instance needs are named when PATH lacks them", async () => {
  await withRun(async (where) => {
    const out = await setupPrivateBinfmt(EMULATION, { ...where, host: HOST });
    assertEquals(out, "unshare, mount, sh not on PATH");
    assertEquals([...Deno.readDirSync(where.runDir)], []);
  });
});

Deno.test("a usable host entry needs no private instance; a refusal is carried", async () => {
  await withRun(async (where) => {
    const entry = { enabled: true, interpreter: "/q", flags: "F" };
    const hosted = { ...EMULATION, binfmt: entry };
    assertEquals(
      await withPrivateBinfmtIfPossible(hosted, { ...where, host: HOST }),
      hosted,
    );
    const old = await withPrivateBinfmtIfPossible(EMULATION, {
      ...where,
      host: { ...HOST, kernel: "5.10.0" },
    });
    assertEquals(old.privateBinfmt, undefined);
    assertEquals(
      old.privateRefusal,
      "kernel 5.10.0 is older than 6.7, which gives a user namespace a binfmt_misc of its own",
    );
  });
});
