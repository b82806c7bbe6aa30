import assert from "node:assert/strict";
import {
  isNotFound,
  provisionOnce,
  type ProvisionSteps,
} from "../../../src/library/provision.ts";
import { RegistryError } from "../../../src/image/registry/registry_error.ts";
import { PolytheneError } from "../../../src/errors.ts";

/** Steps that record what they were asked; `pullRef` decides REF's pull. */
function steps(pullRef: () => string, codes: number[] = []) {
  const calls: string[] = [];
  const s: ProvisionSteps = {
    pull: (image) => {
      calls.push(`pull ${image}`);
      return Promise.resolve(image === "base" ? "u-base" : pullRef());
    },
    exec: (uuid, argv) => {
      calls.push(`exec ${uuid} ${argv.join(" ")}`);
      return Promise.resolve({ code: codes.shift() ?? 0 });
    },
    commit: (uuid, ref) => {
      calls.push(`commit ${uuid} ${ref}`);
      return Promise.resolve();
    },
    push: (image, dest) => {
      calls.push(`push ${image} ${dest}`);
      return Promise.resolve({ digest: "sha256:d" });
    },
  };
  return { s, calls };
}

const notFound = () => {
  throw new PolytheneError('Cannot pull "r/app:1": manifest unknown', {
    exitCode: 1,
    cause: new RegistryError("r/app:1", "manifest unknown (404)", {
      kind: "not-found",
      status: 404,
    }),
  });
};

Deno.test("provisionOnce: REF in the registry is pulled and nothing else runs", async () => {
  const { s, calls } = steps(() => "u-ref");
  const result = await provisionOnce(s, "r/app:1", {
    base: "base",
    commands: [["true"]],
  });
  assert.deepEqual(result, { uuid: "u-ref", reused: true });
  assert.deepEqual(calls, ["pull r/app:1"]);
});

Deno.test("provisionOnce: REF absent: base, commands in order, commit, push", async () => {
  const { s, calls } = steps(notFound);
  const result = await provisionOnce(s, "r/app:1", {
    base: "base",
    commands: [["apt-get", "update"], ["apt-get", "install", "-y", "hello"]],
  });
  assert.deepEqual(result, {
    uuid: "u-base",
    reused: false,
    digest: "sha256:d",
  });
  assert.deepEqual(calls, [
    "pull r/app:1",
    "pull base",
    "exec u-base apt-get update",
    "exec u-base apt-get install -y hello",
    "commit u-base r/app:1",
    "push r/app:1 r/app:1",
  ]);
});

Deno.test("provisionOnce: a failing command stops before commit, naming it", async () => {
  const { s, calls } = steps(notFound, [0, 100]);
  await assert.rejects(
    provisionOnce(s, "r/app:1", {
      base: "base",
      commands: [["a"], ["b", "c"], ["d"]],
    }),
    /Cannot provision "r\/app:1": command 2 of 3 \(b c\) exited with 100/,
  );
  assert.ok(!calls.some((c) => c.startsWith("commit")));
});

Deno.test("provisionOnce: any other pull failure is thrown, not provisioned over", async () => {
  const { s, calls } = steps(() => {
    throw new RegistryError("r/app:1", "refused (401)", {
      kind: "unauthorized",
    });
  });
  await assert.rejects(
    provisionOnce(s, "r/app:1", { base: "base", commands: [] }),
    /refused/,
  );
  assert.deepEqual(calls, ["pull r/app:1"]);
});

Deno.test("provisionOnce: push false keeps REF local", async () => {
  const { s, calls } = steps(notFound);
  const result = await provisionOnce(s, "r/app:1", {
    base: "base",
    commands: [],
    push: false,
  });
  assert.deepEqual(result, { uuid: "u-base", reused: false });
  assert.ok(!calls.some((c) => c.startsWith("push")));
});

Deno.test("isNotFound looks through the cause chain for a not-found RegistryError", () => {
  assert.equal(
    isNotFound(new RegistryError("x", "y", { kind: "not-found" })),
    true,
  );
  assert.equal(
    isNotFound(new RegistryError("x", "y", { kind: "denied" })),
    false,
  );
  assert.equal(isNotFound(new Error("not-found")), false);
  assert.equal(isNotFound(undefined), false);
});
