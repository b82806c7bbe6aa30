import { assertEquals, assertIncludes } from "../../../helpers/assert.ts";
import assert from "node:assert/strict";
import {
  authFiles,
  findCredentials,
  helperServerUrl,
  lookupInFile,
  normalizeKey,
  parseHelperOutput,
} from "../../../../src/image/registry/credentials.ts";
import { PolytheneError } from "../../../../src/errors.ts";

const b64 = (s: string) => btoa(s);

/** A temp dir with files, and an env lookup over `vars`. */
async function fixture(
  files: Record<string, unknown>,
  vars: (dir: string) => Record<string, string>,
) {
  const dir = await Deno.makeTempDir({ prefix: "polythene-creds-" });
  for (const [path, content] of Object.entries(files)) {
    const full = `${dir}/${path}`;
    await Deno.mkdir(full.slice(0, full.lastIndexOf("/")), { recursive: true });
    if (path.endsWith(".sh") || path.includes("docker-credential-")) {
      await Deno.writeTextFile(full, String(content), { mode: 0o755 });
    } else {
      await Deno.writeTextFile(
        full,
        typeof content === "string" ? content : JSON.stringify(content),
      );
    }
  }
  const env = vars(dir);
  return {
    dir,
    env: (name: string) => env[name],
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

const auth = (user: string, password: string) => ({
  auth: b64(`${user}:${password}`),
});

Deno.test("authFiles: podman's order", () => {
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  assertEquals(
    authFiles(env({
      REGISTRY_AUTH_FILE: "/a.json",
      XDG_RUNTIME_DIR: "/run/user/1",
      HOME: "/home/u",
    })),
    [
      { path: "/a.json", format: "containers" },
      { path: "/home/u/.config/containers/auth.json", format: "containers" },
      { path: "/home/u/.docker/config.json", format: "docker" },
    ],
  );
  assertEquals(
    authFiles(env({
      XDG_RUNTIME_DIR: "/run/user/1",
      XDG_CONFIG_HOME: "/cfg",
      DOCKER_CONFIG: "/dk",
      HOME: "/home/u",
    })).map((f) => f.path),
    [
      "/run/user/1/containers/auth.json",
      "/cfg/containers/auth.json",
      "/dk/config.json",
    ],
  );
  assertEquals(authFiles(env({})), []);
});

Deno.test("keys: schemes and paths, docker.io's aliases", () => {
  assertEquals(normalizeKey("https://index.docker.io/v1/"), "docker.io");
  assertEquals(normalizeKey("index.docker.io/v1/"), "docker.io");
  assertEquals(normalizeKey("registry-1.docker.io"), "docker.io");
  assertEquals(normalizeKey("http://127.0.0.1:5000/v2/"), "127.0.0.1:5000");
  assertEquals(normalizeKey("quay.io/org/repo"), "quay.io/org/repo");
  assertEquals(normalizeKey("Quay.IO"), "quay.io");
  assertEquals(helperServerUrl("docker.io"), "https://index.docker.io/v1/");
  assertEquals(helperServerUrl("quay.io"), "quay.io");
});

Deno.test("lookupInFile: the longest repository match, then the registry", () => {
  const file = {
    auths: {
      "quay.io": auth("reg", "1"),
      "quay.io/org": auth("org", "2"),
      "quay.io/org/repo": auth("repo", "3"),
      "https://index.docker.io/v1/": auth("hub", "4"),
    },
  };
  const user = (registry: string, repository: string) => {
    const found = lookupInFile(file, "f", registry, repository);
    return found?.kind === "credential" ? found.credential.username : found;
  };
  assertEquals(user("quay.io", "org/repo"), "repo");
  assertEquals(user("quay.io", "org/other"), "org");
  assertEquals(user("quay.io", "else/x"), "reg");
  assertEquals(user("docker.io", "library/busybox"), "hub");
  assertEquals(user("ghcr.io", "x"), undefined);
});

Deno.test("lookupInFile: credHelpers, then credsStore, then auths", () => {
  assertEquals(
    lookupInFile(
      {
        credHelpers: { "gcr.io": "gcloud" },
        credsStore: "pass",
        auths: { "gcr.io": auth("a", "b") },
      },
      "f",
      "gcr.io",
      "x",
    ),
    {
      kind: "helper",
      helper: "gcloud",
      fallback: { source: "f", username: "a", password: "b" },
    },
  );
  assertEquals(
    lookupInFile({ credsStore: "pass", auths: {} }, "f", "quay.io", "x"),
    { kind: "helper", helper: "pass", fallback: undefined },
  );
});

Deno.test("entries: username/password fields, identity tokens, empty auth", () => {
  const look = (entry: unknown) =>
    lookupInFile({ auths: { "r.io": entry } }, "f", "r.io", "x");
  assertEquals(look({ username: "u", password: "p" }), {
    kind: "credential",
    credential: { source: "f", username: "u", password: "p" },
  });
  assertEquals(look({ auth: b64("u:"), identitytoken: "refresh" }), {
    kind: "credential",
    credential: { source: "f", username: "u", identityToken: "refresh" },
  });
  assertEquals(look({}), undefined);
  assertEquals(look({ auth: "" }), undefined);
});

Deno.test("malformed files name the file, never the secret", () => {
  const secret = "s3cr3t-password";
  for (
    const content of [
      { auths: { "r.io": { auth: b64(`nocolon${secret}`) } } },
      { auths: { "r.io": { auth: "!!!not base64" } } },
      { auths: { "r.io": "string" } },
      { auths: [] },
      "text",
    ]
  ) {
    try {
      lookupInFile(content, "/x/auth.json", "r.io", "x");
      assert.fail(`no error for ${JSON.stringify(content)}`);
    } catch (error) {
      assert.ok(error instanceof PolytheneError);
      assertIncludes(
        error.message,
        "Cannot read registry credentials from /x/auth.json: ",
      );
      assert.ok(!error.message.includes(secret));
    }
  }
});

Deno.test("findCredentials: the first file with an entry wins", async () => {
  await using fx = await fixture({
    "explicit.json": { auths: { "other.io": auth("o", "o") } },
    "runtime/containers/auth.json": { auths: { "r.io": auth("runtime", "1") } },
    "home/.config/containers/auth.json": {
      auths: { "r.io": auth("config", "2") },
    },
    "home/.docker/config.json": { auths: { "r.io": auth("docker", "3") } },
  }, (dir) => ({
    REGISTRY_AUTH_FILE: `${dir}/explicit.json`,
    XDG_RUNTIME_DIR: `${dir}/runtime`,
    HOME: `${dir}/home`,
  }));
  // REGISTRY_AUTH_FILE replaces the runtime file (as in podman); it has
  // nothing for r.io, so ~/.config's entry is next.
  const found = await findCredentials("r.io", "x", { env: fx.env });
  assertEquals(found, {
    source: `${fx.dir}/home/.config/containers/auth.json`,
    username: "config",
    password: "2",
  });
  assertEquals(
    (await findCredentials("other.io", "x", { env: fx.env }))?.username,
    "o",
  );
  assertEquals(
    await findCredentials("none.io", "x", { env: fx.env }),
    undefined,
  );
});

Deno.test("findCredentials: runtime dir, then docker's config", async () => {
  await using fx = await fixture({
    "runtime/containers/auth.json": { auths: { "r.io": auth("runtime", "1") } },
    "dockercfg/config.json": {
      auths: { "https://index.docker.io/v1/": auth("hub", "h") },
    },
  }, (dir) => ({
    XDG_RUNTIME_DIR: `${dir}/runtime`,
    DOCKER_CONFIG: `${dir}/dockercfg`,
    HOME: `${dir}/nohome`,
  }));
  assertEquals(
    (await findCredentials("r.io", "x", { env: fx.env }))?.username,
    "runtime",
  );
  assertEquals(
    (await findCredentials("docker.io", "library/busybox", { env: fx.env }))
      ?.username,
    "hub",
  );
});

Deno.test("findCredentials: a broken file is an error naming it", async () => {
  await using fx = await fixture(
    { "auth.json": "{ not json" },
    (dir) => ({ REGISTRY_AUTH_FILE: `${dir}/auth.json` }),
  );
  await assert.rejects(
    findCredentials("r.io", "x", { env: fx.env }),
    (error: Error) => {
      assertEquals(
        error.message,
        `Cannot read registry credentials from ${fx.dir}/auth.json: it is not valid JSON`,
      );
      return true;
    },
  );
});

const HELPER = `#!/bin/sh
read -r server
case "$server" in
  https://index.docker.io/v1/) echo '{"ServerURL":"hub","Username":"<token>","Secret":"idtoken"}' ;;
  r.io) echo '{"ServerURL":"r.io","Username":"helped","Secret":"pw"}' ;;
  broken.io) echo "helper exploded" >&2; exit 3 ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
`;

Deno.test("findCredentials: credential helpers run with the server on stdin", async () => {
  await using fx = await fixture({
    "bin/docker-credential-test": HELPER,
    "home/.docker/config.json": {
      credsStore: "test",
      auths: { "fallback.io": auth("file", "f") },
    },
  }, (dir) => ({ HOME: `${dir}/home`, PATH: `${dir}/bin` }));
  assertEquals(await findCredentials("r.io", "x", { env: fx.env }), {
    source: "docker-credential-test",
    username: "helped",
    password: "pw",
  });
  assertEquals(
    await findCredentials("docker.io", "library/x", { env: fx.env }),
    {
      source: "docker-credential-test",
      identityToken: "idtoken",
    },
  );
  // Not found by the helper: the file's own entry, else nothing.
  assertEquals(
    (await findCredentials("fallback.io", "x", { env: fx.env }))?.username,
    "file",
  );
  assertEquals(
    await findCredentials("none.io", "x", { env: fx.env }),
    undefined,
  );
  await assert.rejects(
    findCredentials("broken.io", "x", { env: fx.env }),
    /^PolytheneError: Cannot get registry credentials from docker-credential-test: it failed with exit code 3: helper exploded$/,
  );
});

Deno.test("a missing helper is a clear error", async () => {
  await using fx = await fixture({
    "home/.docker/config.json": { credHelpers: { "r.io": "absent" } },
  }, (dir) => ({ HOME: `${dir}/home`, PATH: `${dir}/bin` }));
  await assert.rejects(
    findCredentials("r.io", "x", { env: fx.env }),
    /Cannot get registry credentials from docker-credential-absent: it is not installed/,
  );
});

Deno.test("parseHelperOutput", () => {
  assertEquals(
    parseHelperOutput("x", {
      code: 0,
      stdout: '{"Username":"","Secret":""}',
      stderr: "",
    }),
    undefined,
  );
  assert.throws(
    () => parseHelperOutput("x", { code: 0, stdout: "nope", stderr: "" }),
    /its output is not a JSON object with Username and Secret/,
  );
});

Deno.test("a helper name is a program name, never a path", () => {
  for (
    const content of [
      { credsStore: "../../tmp/evil" },
      { credsStore: "/tmp/evil" },
      { credsStore: "-flag" },
      { credHelpers: { "r.io": "a/b" } },
    ]
  ) {
    try {
      lookupInFile(content, "/x/config.json", "r.io", "x");
      assert.fail(`no error for ${JSON.stringify(content)}`);
    } catch (error) {
      assert.ok(error instanceof PolytheneError, String(error));
      assertIncludes(error.message, "is not a program name");
    }
  }
  assertEquals(
    lookupInFile({ credsStore: "ecr-login" }, "f", "r.io", "x")?.kind,
    "helper",
  );
});
