import { assertEquals } from "../../../helpers/assert.ts";
import { insecureRegistries } from "../../../../src/image/sources/configured_source.ts";
import { pullCandidates } from "../../../../src/image/registries/candidates.ts";
import { parseRegistriesConf } from "../../../../src/image/registries/conf.ts";
import { parseReference } from "../../../../src/image/reference.ts";

Deno.test("only the insecure rules matching this reference make hosts insecure", () => {
  const conf = parseRegistriesConf({
    registry: [
      { prefix: "r.example/open", location: "r.example/open", insecure: true },
      {
        location: "s.example",
        mirror: [{ location: "m.example:5000", insecure: true }],
      },
    ],
  }, "/main.conf");
  const hosts = (text: string) =>
    insecureRegistries(pullCandidates(conf, text, parseReference(text)));
  assertEquals(hosts("r.example/open/app"), ["r.example"]);
  assertEquals(hosts("r.example/closed/app"), []);
  assertEquals(hosts("s.example/app"), ["m.example:5000"]);
});
