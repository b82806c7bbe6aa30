import { assertEquals } from "../../../helpers/assert.ts";
import {
  basicAuthorization,
  chooseChallenge,
  parseWwwAuthenticate,
  tokenFromResponse,
  tokenUrl,
} from "../../../../src/image/registry/challenge.ts";

Deno.test("Bearer challenge with realm, service and scope", () => {
  assertEquals(
    parseWwwAuthenticate(
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"',
    ),
    [{
      scheme: "bearer",
      params: {
        realm: "https://auth.docker.io/token",
        service: "registry.docker.io",
        scope: "repository:library/busybox:pull",
      },
    }],
  );
});

Deno.test("Basic challenge, odd spacing, case, unquoted values", () => {
  assertEquals(parseWwwAuthenticate('basic  Realm = "Registry Realm" '), [
    { scheme: "basic", params: { realm: "Registry Realm" } },
  ]);
  assertEquals(
    parseWwwAuthenticate("Bearer realm=http://x/token, service=svc"),
    [
      { scheme: "bearer", params: { realm: "http://x/token", service: "svc" } },
    ],
  );
});

Deno.test("several challenges, commas and escapes inside quotes", () => {
  const challenges = parseWwwAuthenticate(
    'Basic realm="a, b", Bearer realm="https://t/token",scope="repository:a:pull,push",error="insufficient_scope", Negotiate abc==',
  );
  assertEquals(challenges, [
    { scheme: "basic", params: { realm: "a, b" } },
    {
      scheme: "bearer",
      params: {
        realm: "https://t/token",
        scope: "repository:a:pull,push",
        error: "insufficient_scope",
      },
    },
    { scheme: "negotiate", params: {} },
  ]);
  assertEquals(parseWwwAuthenticate("Negotiate abc==, Basic realm=r"), [
    { scheme: "negotiate", params: {} },
    { scheme: "basic", params: { realm: "r" } },
  ]);
  assertEquals(parseWwwAuthenticate('Basic realm="say \\"hi\\""')[0]?.params, {
    realm: 'say "hi"',
  });
  assertEquals(parseWwwAuthenticate(""), []);
});

Deno.test("chooseChallenge prefers Bearer with a realm, then Basic", () => {
  const both = parseWwwAuthenticate(
    'Basic realm="r", Bearer realm="https://t"',
  );
  assertEquals(chooseChallenge(both)?.scheme, "bearer");
  const noRealm = parseWwwAuthenticate('Bearer service="x", Basic realm="r"');
  assertEquals(chooseChallenge(noRealm)?.scheme, "basic");
  assertEquals(chooseChallenge(parseWwwAuthenticate("Digest x=1")), undefined);
});

Deno.test("tokenUrl asks for the repository's pull scope", () => {
  const [challenge] = parseWwwAuthenticate(
    'Bearer realm="https://auth.example/token?x=1",service="reg"',
  );
  assertEquals(
    tokenUrl(challenge!, "ns/img").href,
    "https://auth.example/token?x=1&service=reg&scope=repository%3Ans%2Fimg%3Apull",
  );
  const [scoped] = parseWwwAuthenticate(
    'Bearer realm="https://a/t",scope="repository:ns/img:pull"',
  );
  assertEquals(
    tokenUrl(scoped!, "ns/img").searchParams.getAll("scope"),
    ["repository:ns/img:pull"],
  );
});

Deno.test("the token is `token` or OAuth2's `access_token`", () => {
  assertEquals(tokenFromResponse({ token: "t1" }), "t1");
  assertEquals(tokenFromResponse({ access_token: "t2" }), "t2");
  assertEquals(tokenFromResponse({ token: "", access_token: "t3" }), "t3");
  assertEquals(tokenFromResponse({}), undefined);
  assertEquals(tokenFromResponse("t"), undefined);
});

Deno.test("basicAuthorization encodes UTF-8", () => {
  assertEquals(
    basicAuthorization("user", "pa:ss"),
    `Basic ${btoa("user:pa:ss")}`,
  );
  assertEquals(basicAuthorization("é", "x"), "Basic w6k6eA==");
});
