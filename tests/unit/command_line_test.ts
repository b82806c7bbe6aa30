import { strict as assert } from "node:assert";
import {
  fillPlaceholders,
  splitWords,
} from "../../features/steps/_command_line.ts";

Deno.test("splitWords() splits on whitespace", () => {
  assert.deepEqual(splitWords("  exec --store  s\tu -- echo hello "), [
    "exec",
    "--store",
    "s",
    "u",
    "--",
    "echo",
    "hello",
  ]);
  assert.deepEqual(splitWords(""), []);
});

Deno.test("splitWords() groups quoted text into one word", () => {
  assert.deepEqual(splitWords(`sh -c 'exit 42'`), ["sh", "-c", "exit 42"]);
  assert.deepEqual(splitWords(`echo "it's" ''`), ["echo", "it's", ""]);
  assert.deepEqual(splitWords(`--opt='a b'"c"d`), ["--opt=a bcd"]);
});

Deno.test("splitWords() rejects an unclosed quote", () => {
  assert.throws(() => splitWords(`sh -c 'exit 42`), SyntaxError);
});

Deno.test("fillPlaceholders() replaces known placeholders", () => {
  const values = { store: "/tmp/s", uuid: "u-1" };
  assert.equal(fillPlaceholders("--store=<store>", values), "--store=/tmp/s");
  assert.equal(fillPlaceholders("<uuid>:<uuid>", values), "u-1:u-1");
  assert.equal(fillPlaceholders("a<b", values), "a<b");
});

Deno.test("fillPlaceholders() rejects an unknown placeholder", () => {
  assert.throws(() => fillPlaceholders("<uuid>", {}), RangeError);
});
