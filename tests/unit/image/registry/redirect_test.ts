import assert from "node:assert/strict";
import { assertEquals } from "../../../helpers/assert.ts";
import {
  decideRedirect,
  isLoopbackHost,
  MAX_REDIRECTS,
  namedUrlProblem,
  nextHop,
  plainHttpAllowed,
  registryHostname,
  schemeProblem,
} from "../../../../src/image/registry/redirect.ts";

const u = (s: string) => new URL(s);

Deno.test("Authorization goes only to the same host and port", () => {
  const cases: [string, string, boolean][] = [
    ["https://reg.example/v2/x", "https://reg.example/blobs/1", true],
    ["https://reg.example/v2/x", "https://REG.example:443/b", true],
    ["https://reg.example/v2/x", "https://cdn.example/b", false],
    ["https://reg.example/v2/x", "https://reg.example:8443/b", false],
    ["http://127.0.0.1:5000/v2/x", "http://127.0.0.2:5000/b", false],
    ["http://127.0.0.1:5000/v2/x", "http://127.0.0.1:5001/b", false],
    ["http://127.0.0.1:5000/v2/x", "http://127.0.0.1:5000/b", true],
    ["http://localhost/v2/x", "https://localhost/b", false],
  ];
  for (const [from, to, keep] of cases) {
    assertEquals(
      decideRedirect(u(from), u(to), true),
      { follow: true, keepAuthorization: keep },
      `${from} -> ${to}`,
    );
  }
  assertEquals(
    decideRedirect(u("https://a/x"), u("https://a/y"), false),
    { follow: true, keepAuthorization: false },
  );
});

Deno.test("https to http is refused, even on loopback", () => {
  assertEquals(
    decideRedirect(
      u("https://127.0.0.1:5000/x"),
      u("http://127.0.0.1:5000/y"),
      true,
    ),
    {
      follow: false,
      reason: "redirect from https to plain http (127.0.0.1:5000)",
    },
  );
  assertEquals(
    decideRedirect(u("https://a/x"), u("http://b/y"), false, () => true).follow,
    false,
  );
});

Deno.test("plain http elsewhere than loopback needs TLS verification off", () => {
  assertEquals(
    decideRedirect(u("http://127.0.0.1/x"), u("http://example.com/y"), false),
    {
      follow: false,
      reason: "redirect to plain http on a non-loopback host (example.com)",
    },
  );
  assertEquals(
    decideRedirect(
      u("http://127.0.0.1/x"),
      u("http://example.com/y"),
      false,
      (url) => plainHttpAllowed(url, false),
    ).follow,
    true,
  );
});

Deno.test("non-HTTP redirect targets are refused", () => {
  for (const to of ["file:///etc/passwd", "ftp://a/b", "data:,x"]) {
    assertEquals(
      decideRedirect(u("https://a/x"), u(to), false).follow,
      false,
      to,
    );
  }
});

Deno.test("loopback hosts", () => {
  for (
    const h of [
      "localhost",
      "LOCALHOST",
      "a.localhost",
      "127.0.0.1",
      "127.1.2.3",
      "::1",
      "[::1]",
    ]
  ) {
    assertEquals(isLoopbackHost(h), true, h);
  }
  for (
    const h of [
      "example.com",
      "10.0.0.1",
      "128.0.0.1",
      "127.0.0.256",
      "localhost.example.com",
      "::2",
      "127.0.0.1.nip.io",
    ]
  ) {
    assertEquals(isLoopbackHost(h), false, h);
  }
  assertEquals(registryHostname("127.0.0.1:5000"), "127.0.0.1");
  assertEquals(registryHostname("[::1]:5000"), "::1");
  assertEquals(registryHostname("example.com"), "example.com");
  assertEquals(plainHttpAllowed(u("http://example.com/"), true), false);
  assertEquals(plainHttpAllowed(u("http://[::1]:5000/"), true), true);
});

Deno.test("schemeProblem: only http and https are requested", () => {
  assertEquals(schemeProblem(new URL("https://r.example/v2/")), undefined);
  assertEquals(schemeProblem(new URL("http://127.0.0.1:5000/")), undefined);
  assertEquals(
    schemeProblem(new URL("file:///etc/shadow")),
    "non-HTTP URL (file:)",
  );
  assertEquals(
    schemeProblem(new URL("data:,token")),
    "non-HTTP URL (data:)",
  );
});

Deno.test("namedUrlProblem: an https registry names no plain http URL", () => {
  const https = new URL("https://r.example/");
  assertEquals(
    namedUrlProblem(https, new URL("https://auth.example/t")),
    undefined,
  );
  assertEquals(
    namedUrlProblem(https, new URL("http://127.0.0.1:2375/x")),
    "plain http URL named by an https registry (127.0.0.1:2375)",
  );
  assertEquals(
    namedUrlProblem(
      new URL("http://127.0.0.1:5000/"),
      new URL("http://127.0.0.1:5001/t"),
    ),
    undefined,
  );
  assertEquals(
    namedUrlProblem(https, new URL("file:///etc/shadow")),
    "non-HTTP URL (file:)",
  );
});

Deno.test("nextHop: the Location, resolved, and whether Authorization goes", () => {
  const current = new URL("https://reg.example/v2/a/blobs/sha256:0");
  const same = nextHop(
    "img",
    current,
    current,
    new Response(null, { status: 307, headers: { location: "/other" } }),
    0,
    true,
  );
  assert.equal(same.next.href, "https://reg.example/other");
  assert.equal(same.keepAuthorization, true);
  const away = nextHop(
    "img",
    current,
    current,
    new Response(null, {
      status: 302,
      headers: { location: "https://cdn.example/blob" },
    }),
    0,
    true,
  );
  assert.equal(away.next.host, "cdn.example");
  assert.equal(away.keepAuthorization, false);
});

Deno.test("nextHop: refuses too many hops, no Location, and https to http", () => {
  const current = new URL("https://reg.example/v2/");
  const answer = (location?: string) =>
    new Response(null, {
      status: 302,
      headers: location ? { location } : {},
    });
  assert.throws(
    () => nextHop("img", current, current, answer("/x"), MAX_REDIRECTS, false),
    /more than 10 redirects from reg\.example/,
  );
  assert.throws(
    () => nextHop("img", current, current, answer(), 0, false),
    /reg\.example answered 302 without a valid Location/,
  );
  assert.throws(
    () =>
      nextHop("img", current, current, answer("http://cdn.example/"), 0, false),
    /refusing a redirect/,
  );
});
