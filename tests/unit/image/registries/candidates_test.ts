import { assertEquals, assertThrows } from "../../../helpers/assert.ts";
import {
  findRule,
  pullCandidates,
  shortName,
  ShortNameError,
} from "../../../../src/image/registries/candidates.ts";
import {
  mergeConf,
  parseRegistriesConf,
  type RegistriesConf,
} from "../../../../src/image/registries/conf.ts";
import {
  formatReference,
  parseReference,
} from "../../../../src/image/reference.ts";

const conf = (doc: Record<string, unknown>, path = "/main.conf") =>
  parseRegistriesConf(doc, path);
/** Each candidate as its sources' references (or BLOCKED). */
const plan = (c: RegistriesConf, text: string) =>
  pullCandidates(c, text, parseReference(text)).map((candidate) =>
    candidate.blocked !== undefined
      ? `BLOCKED ${formatReference(candidate.ref)}`
      : candidate.sources.map((s) =>
        `${formatReference(s.ref)}${s.insecure ? " (insecure)" : ""}`
      ).join(" | ")
  );

const SEARCH = {
  "unqualified-search-registries": ["a.example", "b.example:5000"],
};

Deno.test("short names: as typed, with a tag or digest, and qualified names", () => {
  assertEquals(shortName("busybox"), "busybox");
  assertEquals(shortName("busybox:1"), "busybox");
  assertEquals(shortName("ns/app@sha256:" + "a".repeat(64)), "ns/app");
  assertEquals(shortName("docker.io/library/busybox"), undefined);
  assertEquals(shortName("localhost/app"), undefined);
  assertEquals(shortName("host:5000/app"), undefined);
  assertEquals(shortName("docker://busybox"), undefined);
});

Deno.test("permissive and disabled try every search registry in order", () => {
  for (const mode of ["permissive", "disabled", undefined]) {
    const c = conf({ ...SEARCH, ...(mode ? { "short-name-mode": mode } : {}) });
    assertEquals(plan(c, "app:1"), [
      "a.example/app:1",
      "b.example:5000/app:1",
    ]);
  }
  // docker.io as a search registry gets library/ for a one-part name.
  const hub = conf({ "unqualified-search-registries": ["docker.io"] });
  assertEquals(plan(hub, "busybox"), ["docker.io/library/busybox:latest"]);
});

Deno.test("enforcing refuses an ambiguous short name, listing the candidates", () => {
  const c = conf({ ...SEARCH, "short-name-mode": "enforcing" });
  const error = assertThrows(() => plan(c, "app:1"), ShortNameError);
  assertEquals(error.candidates, ["a.example/app", "b.example:5000/app"]);
  assertEquals(error.message.includes("/main.conf"), true);
  // One search registry is not ambiguous.
  const one = conf({
    "unqualified-search-registries": ["a.example"],
    "short-name-mode": "enforcing",
  });
  assertEquals(plan(one, "app"), ["a.example/app:latest"]);
});

Deno.test("an alias wins over the search registries, even under enforcing", () => {
  const c = conf({
    ...SEARCH,
    "short-name-mode": "enforcing",
    aliases: { app: "c.example/team/app" },
  });
  assertEquals(plan(c, "app:2"), ["c.example/team/app:2"]);
  const digest = "sha256:" + "b".repeat(64);
  assertEquals(plan(c, `app@${digest}`), [`c.example/team/app@${digest}`]);
  // A drop-in may remove it with "".
  const removed = mergeConf(
    c,
    parseRegistriesConf({ aliases: { app: "" } }, "/d.conf", true),
  );
  assertThrows(() => plan(removed, "app:2"), ShortNameError);
});

Deno.test("no search list anywhere: docker.io; an empty one: an error", () => {
  assertEquals(plan(conf({}), "busybox"), ["docker.io/library/busybox:latest"]);
  assertThrows(
    () => plan(conf({ "unqualified-search-registries": [] }), "busybox"),
    ShortNameError,
  );
  // Qualified names never need the list.
  assertEquals(
    plan(conf({ "unqualified-search-registries": [] }), "q.example/x"),
    [
      "q.example/x:latest",
    ],
  );
});

Deno.test("the longest matching prefix wins; prefixes match whole components", () => {
  const c = conf({
    registry: [
      { location: "r.example" },
      { prefix: "r.example/team", location: "mirror.example/t" },
      { prefix: "r.example/te", location: "wrong.example" },
    ],
  });
  assertEquals(plan(c, "r.example/team/app:1"), ["mirror.example/t/app:1"]);
  assertEquals(plan(c, "r.example/teams/app:1"), ["r.example/teams/app:1"]);
  assertEquals(findRule(c, parseReference("other.example/x")), undefined);
});

Deno.test("mirrors come first, in order, then the location", () => {
  const c = conf({
    registry: [{
      prefix: "docker.io",
      location: "docker.io",
      mirror: [
        { location: "m1.example:5000" },
        { location: "m2.example/hub", insecure: true },
      ],
    }],
  });
  assertEquals(plan(c, "docker.io/library/busybox:1"), [
    "m1.example:5000/library/busybox:1 | m2.example/hub/library/busybox:1 (insecure) | docker.io/library/busybox:1",
  ]);
});

Deno.test("pull-from-mirror and mirror-by-digest-only filter mirrors", () => {
  const digest = "sha256:" + "c".repeat(64);
  const c = conf({
    registry: [{
      location: "r.example",
      mirror: [
        { location: "d.example", "pull-from-mirror": "digest-only" },
        { location: "t.example", "pull-from-mirror": "tag-only" },
        { location: "a.example" },
      ],
    }],
  });
  assertEquals(plan(c, "r.example/x:1"), [
    "t.example/x:1 | a.example/x:1 | r.example/x:1",
  ]);
  assertEquals(plan(c, `r.example/x@${digest}`), [
    `d.example/x@${digest} | a.example/x@${digest} | r.example/x@${digest}`,
  ]);
  const old = conf({
    registry: [{
      location: "r.example",
      "mirror-by-digest-only": true,
      mirror: [{ location: "m.example" }],
    }],
  });
  assertEquals(plan(old, "r.example/x:1"), ["r.example/x:1"]);
  assertEquals(plan(old, `r.example/x@${digest}`), [
    `m.example/x@${digest} | r.example/x@${digest}`,
  ]);
});

Deno.test("blocked registries and wildcard prefixes", () => {
  const c = conf({
    registry: [
      { location: "bad.example", blocked: true },
      { prefix: "*.corp.example", insecure: true },
    ],
  });
  assertEquals(plan(c, "bad.example/x"), ["BLOCKED bad.example/x:latest"]);
  assertEquals(plan(c, "reg.corp.example:5000/x"), [
    "reg.corp.example:5000/x:latest (insecure)",
  ]);
  assertEquals(plan(c, "corp.example/x"), ["corp.example/x:latest"]);
  // A blocked candidate of a short name is reported, the next one tried.
  const search = conf({
    "unqualified-search-registries": ["bad.example", "ok.example"],
    registry: [{ location: "bad.example", blocked: true }],
  });
  assertEquals(plan(search, "x"), [
    "BLOCKED bad.example/x:latest",
    "ok.example/x:latest",
  ]);
});

Deno.test("every source says which file and rule chose it", () => {
  const c = conf({
    registry: [{ location: "r.example", mirror: [{ location: "m.example" }] }],
  }, "/etc/containers/registries.conf.d/10-mirror.conf");
  const [candidate] = pullCandidates(
    c,
    "r.example/x",
    parseReference("r.example/x"),
  );
  assertEquals(
    candidate!.sources.map((s) => s.why),
    [
      'mirror #1 "m.example" of [[registry]] prefix "r.example" in /etc/containers/registries.conf.d/10-mirror.conf',
      '[[registry]] prefix "r.example" in /etc/containers/registries.conf.d/10-mirror.conf',
    ],
  );
});
