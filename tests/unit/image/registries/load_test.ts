import { assertEquals, assertThrows } from "../../../helpers/assert.ts";
import {
  loadRegistriesConf,
  registriesConfPaths,
  unsafeConfProblem,
} from "../../../../src/image/registries/load.ts";
import { RegistriesConfError } from "../../../../src/image/registries/conf.ts";

Deno.test("which files: CONTAINERS_REGISTRIES_CONF, then the user's, then /etc", () => {
  assertEquals(
    registriesConfPaths({
      override: "/x.conf",
      home: "/h",
      userFileExists: true,
    }),
    {
      main: "/x.conf",
      mainRequired: true,
      dropInDirs: [
        "/etc/containers/registries.conf.d",
        "/h/.config/containers/registries.conf.d",
      ],
    },
  );
  assertEquals(
    registriesConfPaths({ home: "/h", userFileExists: true }),
    {
      main: "/h/.config/containers/registries.conf",
      mainRequired: false,
      dropInDirs: ["/h/.config/containers/registries.conf.d"],
    },
  );
  assertEquals(
    registriesConfPaths({ home: "/h", userFileExists: false, root: "/r" }),
    {
      main: "/r/etc/containers/registries.conf",
      mainRequired: false,
      dropInDirs: [
        "/r/etc/containers/registries.conf.d",
        "/h/.config/containers/registries.conf.d",
      ],
    },
  );
});

Deno.test("loading: main file, then drop-ins in name order, system first", async () => {
  const root = await Deno.makeTempDir();
  try {
    const home = `${root}/home`;
    await Deno.mkdir(`${root}/etc/containers/registries.conf.d`, {
      recursive: true,
    });
    await Deno.mkdir(`${home}/.config/containers/registries.conf.d`, {
      recursive: true,
    });
    await Deno.writeTextFile(
      `${root}/etc/containers/registries.conf`,
      'unqualified-search-registries = ["main.example"]\nshort-name-mode = "enforcing"\n',
    );
    await Deno.writeTextFile(
      `${root}/etc/containers/registries.conf.d/20-b.conf`,
      'unqualified-search-registries = ["b.example"]\n',
    );
    await Deno.writeTextFile(
      `${root}/etc/containers/registries.conf.d/10-a.conf`,
      'unqualified-search-registries = ["a.example"]\n',
    );
    await Deno.writeTextFile(
      `${root}/etc/containers/registries.conf.d/ignored.txt`,
      "junk",
    );
    await Deno.writeTextFile(
      `${home}/.config/containers/registries.conf.d/00-user.conf`,
      '[aliases]\n"app" = "u.example/app"\n',
    );
    const env = (vars: Record<string, string>) => (name: string) => vars[name];
    const conf = await loadRegistriesConf({ env: env({ HOME: home }), root });
    assertEquals(conf.search?.value, ["b.example"]);
    assertEquals(conf.shortNameMode?.value, "enforcing");
    assertEquals(conf.aliases.get("app")?.value, "u.example/app");
    assertEquals(conf.files.map((f) => f.slice(root.length)), [
      "/etc/containers/registries.conf",
      "/etc/containers/registries.conf.d/10-a.conf",
      "/etc/containers/registries.conf.d/20-b.conf",
      "/home/.config/containers/registries.conf.d/00-user.conf",
    ]);

    // A missing file named by CONTAINERS_REGISTRIES_CONF is an error.
    await assertRejects(
      loadRegistriesConf({
        env: env({
          HOME: home,
          CONTAINERS_REGISTRIES_CONF: `${root}/none.conf`,
        }),
        root,
      }),
    );
    // Invalid TOML names the file.
    await Deno.writeTextFile(
      `${root}/bad.conf`,
      "unqualified-search-registries = [",
    );
    const error = await assertRejects(
      loadRegistriesConf({
        env: env({
          HOME: home,
          CONTAINERS_REGISTRIES_CONF: `${root}/bad.conf`,
        }),
        root,
      }),
    );
    assertEquals(error.message.includes(`${root}/bad.conf`), true);
    // No file at all: an empty configuration.
    const none = await loadRegistriesConf({
      env: env({}),
      root: `${root}/nowhere`,
    });
    assertEquals(none.files, []);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

async function assertRejects(
  promise: Promise<unknown>,
): Promise<RegistriesConfError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RegistriesConfError) return error;
    throw error;
  }
  return assertThrows(() => {}, RegistriesConfError);
}

Deno.test("as root, only files root alone could write are trusted", () => {
  assertEquals(unsafeConfProblem({ uid: 0, mode: 0o644 }, "file"), undefined);
  assertEquals(
    unsafeConfProblem({ uid: 1000, mode: 0o644 }, "file"),
    "as root, it must belong to root, not to uid 1000",
  );
  assertEquals(
    unsafeConfProblem({ uid: 0, mode: 0o664 }, "file"),
    "as root, it must be writable by root alone (mode 0664)",
  );
  assertEquals(
    unsafeConfProblem({ uid: 0, mode: 0o40777 }, "drop-in directory"),
    "as root, drop-in directory must be writable by root alone (mode 0777)",
  );
  // A sticky directory (/tmp) keeps others from replacing root's file; a
  // sticky drop-in directory still lets them add one.
  assertEquals(
    unsafeConfProblem({ uid: 0, mode: 0o41777 }, "its directory"),
    undefined,
  );
  assertEquals(
    unsafeConfProblem({ uid: 0, mode: 0o41777 }, "drop-in directory") !==
      undefined,
    true,
  );
  assertEquals(
    unsafeConfProblem({ uid: 1000, mode: 0o40755 }, "its directory"),
    "as root, its directory must belong to root, not to uid 1000",
  );
});

Deno.test("as root, a drop-in others may write is refused, not read", async () => {
  const root = await Deno.makeTempDir();
  try {
    const home = `${root}/home`;
    const dropIns = `${home}/.config/containers/registries.conf.d`;
    await Deno.mkdir(dropIns, { recursive: true });
    await Deno.writeTextFile(
      `${dropIns}/00-user.conf`,
      '[aliases]\n"debian" = "evil.example/debian"\n',
    );
    const env = (name: string) => name === "HOME" ? home : undefined;
    const asMe = Deno.uid() ?? 0;
    // The owner's own files: read (for root, as root's).
    const conf = await loadRegistriesConf({ env, root, uid: asMe });
    assertEquals(conf.aliases.get("debian")?.value, "evil.example/debian");
    // Writable by others: refused as root, naming the file.
    await Deno.chmod(`${dropIns}/00-user.conf`, 0o666);
    const error = await assertRejects(
      loadRegistriesConf({ env, root, uid: 0 }),
    );
    assertEquals(error.path, `${dropIns}/00-user.conf`);
    await Deno.chmod(`${dropIns}/00-user.conf`, 0o644);
    await Deno.chmod(dropIns, 0o777);
    assertEquals(
      (await assertRejects(loadRegistriesConf({ env, root, uid: 0 }))).path,
      dropIns,
    );
    // Not root: the user's own configuration is theirs to keep as they like.
    if (asMe !== 0) {
      await loadRegistriesConf({ env, root, uid: asMe });
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
