import { assertEquals, assertThrows } from "../../../helpers/assert.ts";
import {
  mergeConf,
  parseRegistriesConf,
  RegistriesConfError,
} from "../../../../src/image/registries/conf.ts";

Deno.test("a version 2 file: search list, mode, registries, aliases", () => {
  const conf = parseRegistriesConf({
    "unqualified-search-registries": ["a.example/"],
    "short-name-mode": "enforcing",
    registry: [{
      location: "r.example/",
      mirror: [{ location: "m.example", insecure: true }],
    }],
    aliases: { app: "r.example/team/app" },
  }, "/main.conf");
  assertEquals(conf.search, { value: ["a.example"], origin: "/main.conf" });
  assertEquals(conf.shortNameMode?.value, "enforcing");
  assertEquals(conf.registries[0]!.prefix, "r.example");
  assertEquals(conf.registries[0]!.mirrors[0]!.insecure, true);
  assertEquals(conf.aliases.get("app")?.value, "r.example/team/app");
});

Deno.test("a version 1 file is converted; a drop-in may not be version 1", () => {
  const v1 = {
    registries: {
      search: { registries: ["s.example"] },
      insecure: { registries: ["i.example"] },
      block: { registries: ["b.example"] },
    },
  };
  const conf = parseRegistriesConf(v1, "/main.conf");
  assertEquals(conf.search?.value, ["s.example"]);
  assertEquals(
    conf.registries.map((r) => [r.location, r.insecure, r.blocked]),
    [["b.example", false, true], ["i.example", true, false]],
  );
  assertThrows(
    () => parseRegistriesConf(v1, "/d.conf", true),
    RegistriesConfError,
  );
  assertThrows(
    () =>
      parseRegistriesConf(
        { ...v1, "unqualified-search-registries": [] },
        "/m.conf",
      ),
    RegistriesConfError,
  );
});

Deno.test("invalid files are refused, naming the file", () => {
  const bad: Record<string, unknown>[] = [
    { "short-name-mode": "lenient" },
    { "unqualified-search-registries": ["https://a.example"] },
    { "unqualified-search-registries": ["a.example/ns"] },
    { "unqualified-search-registries": "a.example" },
    { registry: [{}] },
    { registry: [{ prefix: "p.example" }] },
    { registry: [{ prefix: "*.x.example:5000", location: "" }] },
    { registry: [{ location: "r.example", insecure: "yes" }] },
    {
      registry: [{ location: "r.example" }, {
        prefix: "r.example/ns",
        location: "r.example",
        blocked: true,
      }],
    },
    {
      registry: [{
        location: "r.example",
        mirror: [{ location: "m", "pull-from-mirror": "some" }],
      }],
    },
    { aliases: { "app:1": "r.example/app" } },
    { aliases: { "r.example/app": "r.example/app" } },
    { aliases: { app: "app" } },
    { aliases: { app: "r.example/app:1" } },
  ];
  for (const doc of bad) {
    const error = assertThrows(
      () => parseRegistriesConf(doc, "/etc/x.conf"),
      RegistriesConfError,
    );
    assertEquals(
      error.message.startsWith('registries configuration "/etc/x.conf": '),
      true,
    );
  }
});

Deno.test("drop-ins replace set fields, merge registries by prefix and aliases by name", () => {
  const main = parseRegistriesConf({
    "unqualified-search-registries": ["a.example"],
    "short-name-mode": "enforcing",
    registry: [{ location: "z.example" }, { location: "r.example" }],
    aliases: { one: "a.example/one", two: "a.example/two" },
  }, "/main.conf");
  const dropIn = parseRegistriesConf(
    {
      registry: [{ location: "r.example", blocked: true }],
      aliases: { two: "b.example/two" },
    },
    "/d/50.conf",
    true,
  );
  const merged = mergeConf(main, dropIn);
  assertEquals(merged.search?.origin, "/main.conf");
  assertEquals(merged.shortNameMode?.value, "enforcing");
  assertEquals(
    merged.registries.map((r) => [r.prefix, r.blocked, r.origin]),
    [["r.example", true, "/d/50.conf"], ["z.example", false, "/main.conf"]],
  );
  assertEquals(merged.aliases.get("one")?.value, "a.example/one");
  assertEquals(merged.aliases.get("two"), {
    value: "b.example/two",
    origin: "/d/50.conf",
  });
  assertEquals(merged.files, ["/main.conf", "/d/50.conf"]);
  const emptied = mergeConf(
    merged,
    parseRegistriesConf(
      { "unqualified-search-registries": [] },
      "/d/60.conf",
      true,
    ),
  );
  assertEquals(emptied.search, { value: [], origin: "/d/60.conf" });
});
