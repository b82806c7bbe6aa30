/**
 * The library, through its public module `src/mod.ts` only: a
 * `PolytheneSession` pulls an `oci:` layout built here, runs commands with
 * captured output, stdin, environment, a bind, a timeout and `ephemeral`
 * on every backend, manages the store (list, inspect, clone, rm, prune),
 * runs doctor, and throws typed errors carrying the CLI's exit codes.
 *
 * Needs root and all three backends: a backend that is missing, or that
 * doctor calls unusable, is a skipped step, and a failure under `CI=true`.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  BACKEND_NAMES,
  CommandNotFoundError,
  defaultIsolation,
  exec,
  list,
  PolytheneError,
  PolytheneSession,
  RootfsNotFoundError,
  UsageError,
} from "../../src/mod.ts";
import { backendMissingAsRoot, stepNeeding } from "../helpers/fixtures.ts";
import { buildImage, writeOciLayout } from "../helpers/oci_image.ts";
import { busyboxEntries, tempStore, UUID_V7 } from "../helpers/pull_checks.ts";

const APPLETS = [
  "sh",
  "cat",
  "echo",
  "env",
  "id",
  "ls",
  "sleep",
  "touch",
  "uname",
];

/** Builds a busybox image as an OCI layout under `dir`; returns `oci:...`. */
async function busyboxLayout(dir: string): Promise<string> {
  const image = await buildImage({
    layers: [
      { compression: "gzip", entries: busyboxEntries(APPLETS) },
      {
        compression: "gzip",
        entries: [
          { name: "etc/", type: "dir" },
          { name: "etc/motd", content: "from the image\n" },
        ],
      },
    ],
    config: { Env: ["PATH=/bin", "FROM_IMAGE=yes"], WorkingDir: "/etc" },
  });
  await writeOciLayout(`${dir}/layout`, image, "1");
  return `oci:${dir}/layout:1`;
}

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}

/** Awaits `promise` and returns what it threw. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail("expected a rejection");
}

Deno.test("library: a session pulls, runs, and manages its store", async (t) => {
  await using files = await tempStore();
  const image = await busyboxLayout(files.dir);
  const lines: string[] = [];
  const session = new PolytheneSession({
    store: files.store,
    env: () => undefined,
    log: (line) => lines.push(line),
  });
  assert.equal(session.store, files.store);
  assert.equal(session.isolation, undefined);

  const uuid = await session.pull(image);
  const doctor = await session.doctor();
  const usable = doctor.backends.filter((b) => b.usable).map((b) => b.name);

  await t.step("pull returns a UUIDv7 entry that list shows", async () => {
    assert.match(uuid, UUID_V7);
    const entries = await session.list();
    assert.deepEqual(entries.map((e) => e.uuid), [uuid]);
    assert.equal(entries[0]!.image, image);
    assert.equal(entries[0]!.kind, "pulled");
  });

  await t.step("doctor reports every backend and the one exec uses", () => {
    assert.equal(doctor.store, files.store);
    assert.deepEqual(
      doctor.backends.map((b) => b.name).sort(),
      [...BACKEND_NAMES].sort(),
    );
    assert.ok(doctor.selected !== null, "no backend works on this host");
    assert.equal(doctor.selected, usable[0]);
  });

  await t.step("without capture, stdio is the caller's own", async () => {
    // In a process of its own, whose stdin, stdout and stderr are pipes.
    const mod = new URL("../../src/mod.ts", import.meta.url).href;
    const script = `import { PolytheneSession } from "${mod}";
      const session = new PolytheneSession({ store: Deno.args[0], env: () => undefined });
      const argv = ["sh", "-c", "read line; echo out:$line; echo err >&2; exit 3"];
      const result = await session.exec(Deno.args[1], argv);
      Deno.exit(result.stdout === undefined ? result.code : 99);`;
    const child = new Deno.Command(Deno.execPath(), {
      args: ["eval", script, files.store, uuid],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode("in\n"));
    await writer.close();
    const out = await child.output();
    const decode = (b: Uint8Array) => new TextDecoder().decode(b);
    assert.equal(out.code, 3, decode(out.stderr));
    assert.equal(decode(out.stdout), "out:in\n");
    assert.match(decode(out.stderr), /^err$/m);
  });

  for (const backend of BACKEND_NAMES) {
    const missing = backendMissingAsRoot(backend) ??
      (usable.includes(backend) ? undefined : "doctor calls it unusable");
    if (missing !== undefined) {
      await stepNeeding(t, missing, `${backend}: the library runs there`);
      continue;
    }
    await t.step(`${backend}: stdout, stderr and the exit code`, async () => {
      lines.length = 0;
      const result = await session.exec(
        uuid,
        ["sh", "-c", "echo out; echo err >&2; exit 3"],
        { capture: true, isolation: backend },
      );
      assert.equal(result.code, 3);
      assert.equal(result.stdout, "out\n");
      // proot 5.1 may add its own "proot info:" lines; the command's is there.
      assert.match(result.stderr, /^err$/m);
      assert.ok(lines.includes(`using backend ${backend}`), lines.join("\n"));
    });

    await t.step(`${backend}: stdin from input, large output`, async () => {
      const piped = await session.exec(uuid, ["cat"], {
        input: "piped in\n",
        isolation: backend,
      });
      assert.deepEqual(piped, { code: 0, stdout: "piped in\n", stderr: "" });
      const big = await session.exec(
        uuid,
        [
          "sh",
          "-c",
          "i=0; while [ $i -lt 20000 ]; do echo line$i; i=$((i+1)); done",
        ],
        { capture: true, isolation: backend },
      );
      assert.equal(big.code, 0);
      assert.equal(big.stdout.split("\n").length, 20001);
      assert.ok(big.stdout.endsWith("line19999\n"));
    });

    await t.step(`${backend}: a timeout ends the captured run`, async () => {
      // SIGTERM is ignored: only the timeout's SIGKILL ends this in time.
      const result = await session.exec(
        uuid,
        ["sh", "-c", "trap '' TERM; sleep 600 & sleep 600"],
        { capture: true, isolation: backend, timeoutSeconds: 0.5 },
      );
      assert.equal(result.code, 124);
    });
  }

  await t.step("env: the image's Env, then the caller's", async () => {
    const result = await session.exec(uuid, ["env"], {
      capture: true,
      env: { GREETING: "hello there", FROM_IMAGE: "overridden" },
    });
    assert.equal(result.code, 0);
    const env = result.stdout.trim().split("\n").sort();
    assert.ok(env.includes("GREETING=hello there"), result.stdout);
    assert.ok(env.includes("FROM_IMAGE=overridden"), result.stdout);
    assert.ok(env.includes("HOME=/root"), result.stdout);
    assert.ok(!env.some((line) => line.startsWith("USER=")), result.stdout);
  });

  await t.step("a bind shows a host directory, writable", async () => {
    const host = `${files.dir}/shared`;
    await Deno.mkdir(host);
    await Deno.writeTextFile(`${host}/in.txt`, "from the host\n");
    const result = await session.exec(
      uuid,
      ["sh", "-c", "cat /work/in.txt && echo back > /work/out.txt && pwd"],
      {
        capture: true,
        binds: [{ source: host, target: "/work" }],
        workdir: "/work",
      },
    );
    assert.deepEqual(result, {
      code: 0,
      stdout: "from the host\n/work\n",
      stderr: "",
    });
    assert.equal(await Deno.readTextFile(`${host}/out.txt`), "back\n");
  });

  await t.step("a timeout kills the command: code 124", async () => {
    const result = await session.exec(uuid, ["sleep", "600"], {
      capture: true,
      timeoutSeconds: 0.5,
    });
    assert.equal(result.code, 124);
  });

  await t.step(
    "ephemeral runs leave the entry and the store as they were",
    async () => {
      const result = await session.exec(
        uuid,
        ["sh", "-c", "touch /scratch && ls /scratch"],
        { capture: true, ephemeral: true },
      );
      assert.deepEqual(result, { code: 0, stdout: "/scratch\n", stderr: "" });
      assert.equal(await exists(`${files.store}/${uuid}/scratch`), false);
      assert.deepEqual((await session.list()).map((e) => e.uuid), [uuid]);
    },
  );

  await t.step(
    "keep: a failed ephemeral run's result becomes an entry, named in kept",
    async () => {
      const result = await session.exec(
        uuid,
        ["sh", "-c", "rm /bin/ls && touch /scratch && exit 9"],
        { capture: true, ephemeral: true, keep: true },
      );
      assert.equal(result.code, 9);
      assert.match(result.kept ?? "", UUID_V7);
      const kept = `${files.store}/${result.kept}`;
      assert.equal(await exists(`${kept}/scratch`), true);
      assert.equal(await exists(`${kept}/bin/ls`), false);
      assert.equal(await exists(`${files.store}/${uuid}/bin/ls`), true);
      await session.rm([result.kept!]);
      const bad = await rejection(session.exec(uuid, ["true"], { keep: true }));
      assert.ok(bad instanceof UsageError);
    },
  );

  await t.step("typed errors carry the CLI's exit codes", async () => {
    const missing = "01900000-0000-7000-8000-000000000000";
    const gone = await rejection(session.exec(missing, ["true"]));
    assert.ok(gone instanceof RootfsNotFoundError);
    assert.ok(gone instanceof PolytheneError);
    assert.equal(gone.exitCode, 1);
    const notFound = await rejection(session.exec(uuid, ["no-such-program"]));
    assert.ok(notFound instanceof CommandNotFoundError);
    assert.equal(notFound.exitCode, 127);
    const bad = await rejection(session.exec("../escape", ["true"]));
    assert.ok(bad instanceof UsageError);
    assert.equal(bad.exitCode, 2);
    const badBind = await rejection(
      session.exec(uuid, ["true"], { binds: ["relative-target:work"] }),
    );
    assert.ok(badBind instanceof UsageError);
  });

  await t.step("clone, inspect, rm and prune", async () => {
    const copy = await session.clone(uuid);
    assert.match(copy, UUID_V7);
    const info = await session.inspect(copy);
    assert.equal(info.kind, "clone");
    assert.equal(info.parent, uuid);
    const original = await session.inspect(uuid);
    assert.equal(original.image, image);
    assert.equal(original.config?.WorkingDir, "/etc");
    const motd = await session.exec(copy, ["cat", "motd"], { capture: true });
    assert.equal(motd.stdout, "from the image\n");

    await session.rm(copy);
    assert.equal(await exists(`${files.store}/${copy}`), false);
    assert.ok(
      await rejection(session.inspect(copy)) instanceof RootfsNotFoundError,
    );

    const dry = await session.prune({ all: true, dryRun: true });
    assert.deepEqual(dry.removed.map((e) => e.uuid), [uuid]);
    assert.equal(await exists(`${files.store}/${uuid}`), true);
    const done = await session.prune({ all: true });
    assert.deepEqual(done.removed.map((e) => e.uuid), [uuid]);
    assert.deepEqual(await session.list(), []);
  });
});

Deno.test("library: the free functions take the store from their options", async () => {
  await using files = await tempStore();
  assert.deepEqual(await list({ store: files.store }), []);
  const error = await rejection(
    exec("01900000-0000-7000-8000-000000000000", ["true"], {
      store: files.store,
    }),
  );
  assert.ok(error instanceof RootfsNotFoundError);
});

Deno.test("library: the session's default isolation", () => {
  const lookup = (env: Record<string, string>) => (name: string) => env[name];
  assert.equal(defaultIsolation(lookup({})), undefined);
  assert.equal(defaultIsolation(lookup({ GITHUB_ACTIONS: "true" })), "proot");
  assert.equal(
    defaultIsolation(
      lookup({ GITHUB_ACTIONS: "true", POLYTHENE_ISOLATION: "bubblewrap" }),
    ),
    "bubblewrap",
  );
  assert.equal(
    defaultIsolation(lookup({ POLYTHENE_ISOLATION: "" })),
    undefined,
  );
  assert.throws(
    () => defaultIsolation(lookup({ POLYTHENE_ISOLATION: "docker" })),
    (error) => error instanceof UsageError && error.exitCode === 2,
  );
  const session = new PolytheneSession({
    store: "/nonexistent",
    env: lookup({ GITHUB_ACTIONS: "true", POLYTHENE_STORE: "/elsewhere" }),
  });
  assert.equal(session.isolation, "proot");
  assert.equal(session.store, "/nonexistent");
  assert.equal(
    new PolytheneSession({ env: lookup({ POLYTHENE_STORE: "/elsewhere" }) })
      .store,
    "/elsewhere",
  );
});
