import { assertEquals, assertThrows } from "../../../helpers/assert.ts";
import {
  parseProxy,
  proxyEnvProblem,
  proxyFor,
  useProxy,
} from "../../../../src/image/registry/proxy.ts";

const envOf = (vars: Record<string, string>) => (name: string) => vars[name];
const via = (url: string, vars: Record<string, string>) =>
  proxyFor(new URL(url), envOf(vars))?.url;

Deno.test("https uses HTTPS_PROXY, http uses HTTP_PROXY", () => {
  const env = { HTTPS_PROXY: "http://s:1", HTTP_PROXY: "http://p:2" };
  assertEquals(via("https://reg.example/v2/", env), "http://s:1");
  assertEquals(via("http://reg.example/v2/", env), "http://p:2");
  assertEquals(
    via("https://reg.example/", { HTTP_PROXY: "http://p:2" }),
    undefined,
  );
});

Deno.test("the upper-case name wins; the lower-case one is used alone", () => {
  assertEquals(
    via("https://r.example/", {
      HTTPS_PROXY: "http://up:1",
      https_proxy: "http://low:2",
    }),
    "http://up:1",
  );
  assertEquals(
    via("https://r.example/", { https_proxy: "http://low:2" }),
    "http://low:2",
  );
  assertEquals(
    via("https://r.example/", { HTTPS_PROXY: "", https_proxy: "http://low:2" }),
    "http://low:2",
  );
});

Deno.test("HTTP_PROXY is ignored under CGI (REQUEST_METHOD set)", () => {
  assertEquals(
    via("http://r.example/", {
      HTTP_PROXY: "http://p:2",
      REQUEST_METHOD: "GET",
    }),
    undefined,
  );
});

Deno.test("loopback and localhost are never proxied", () => {
  const env = { HTTPS_PROXY: "http://p:1", HTTP_PROXY: "http://p:1" };
  for (
    const url of [
      "http://127.0.0.1:5000/",
      "https://127.0.0.2/",
      "http://localhost:5000/",
      "https://[::1]:5000/",
    ]
  ) {
    assertEquals(via(url, env), undefined, url);
  }
  // A name is not resolved: one that maps to loopback is still proxied.
  assertEquals(via("https://reg.test:5000/", env), "http://p:1");
});

Deno.test("NO_PROXY: domains, subdomains, ports, IPs, CIDRs and *", () => {
  const cases: [string, string, string, boolean][] = [
    // host, port, NO_PROXY, proxied?
    ["example.com", "443", "example.com", false],
    ["sub.example.com", "443", "example.com", false],
    ["notexample.com", "443", "example.com", true],
    ["example.com", "443", ".example.com", true],
    ["sub.example.com", "443", ".example.com", false],
    ["sub.example.com", "443", "*.example.com", false],
    ["example.com", "443", "*.example.com", true],
    ["example.com", "5000", "example.com:5000", false],
    ["example.com", "443", "example.com:5000", true],
    ["10.1.2.3", "443", "10.0.0.0/8", false],
    ["11.1.2.3", "443", "10.0.0.0/8", true],
    ["10.1.2.3", "443", "10.1.2.3", false],
    ["10.1.2.3", "5000", "10.1.2.3:443", true],
    ["fd00::1", "443", "fd00::/8", false],
    ["fd00::1", "443", "[fd00::1]:443", false],
    ["anything.example", "443", "*", false],
    ["EXAMPLE.com", "443", " other.org , Example.COM ", false],
    ["example.com", "443", "", true],
  ];
  for (const [host, port, noProxy, proxied] of cases) {
    assertEquals(
      useProxy(host, port, noProxy),
      proxied,
      `${host}:${port} vs ${noProxy}`,
    );
  }
});

Deno.test("NO_PROXY compares the request's default port", () => {
  assertEquals(
    via("https://r.example/", {
      HTTPS_PROXY: "http://p:1",
      NO_PROXY: "r.example:443",
    }),
    undefined,
  );
  assertEquals(
    via("https://r.example/", {
      HTTPS_PROXY: "http://p:1",
      no_proxy: "r.example",
    }),
    undefined,
  );
});

Deno.test("a proxy without a scheme is http; credentials are split off", () => {
  assertEquals(
    parseProxy("proxy.corp:3128", "HTTPS_PROXY").url,
    "http://proxy.corp:3128",
  );
  const choice = parseProxy(
    "http://us%40er:p%3Ass@proxy.corp:3128/",
    "HTTPS_PROXY",
  );
  assertEquals(choice.url, "http://proxy.corp:3128");
  assertEquals(choice.basicAuth, { username: "us@er", password: "p:ss" });
  assertEquals(
    choice.display.includes("p:ss") || choice.display.includes("p%3Ass"),
    false,
  );
  assertEquals(choice.display, "http://***@proxy.corp:3128");
});

Deno.test("an unusable proxy value names the variable, not the value", () => {
  const error = assertThrows(
    () => parseProxy("[::", "HTTPS_PROXY"),
    TypeError,
  );
  assertEquals(error.message.includes("[::"), false);
  assertEquals(error.message.includes("HTTPS_PROXY"), true);
});

Deno.test("an unusable proxy variable is found before any request", () => {
  assertEquals(proxyEnvProblem(envOf({})), undefined);
  assertEquals(
    proxyEnvProblem(envOf({ HTTPS_PROXY: "proxy:3128" })),
    undefined,
  );
  const problem = proxyEnvProblem(
    envOf({ HTTPS_PROXY: "http://ok:1", http_proxy: "[::" }),
  );
  assertEquals(problem, "http_proxy is not a valid proxy URL");
  // The upper-case value is the one used, so only it is checked.
  assertEquals(
    proxyEnvProblem(envOf({ HTTP_PROXY: "http://ok:1", http_proxy: "[::" })),
    undefined,
  );
});
