import { assertEquals, assertThrows } from "../../helpers/assert.ts";
import { UsageError } from "../../../src/errors.ts";
import { checkFloor } from "../../../src/exec/exec.ts";
import { fallbackNotice } from "../../../src/backends/run.ts";
import {
  atOrAbove,
  backendOrder,
  backendsInOrder,
  isBackendName,
  runnablePrograms,
} from "../../../src/backends/mod.ts";

Deno.test("the default order is bubblewrap, proot, chroot", () => {
  assertEquals(backendOrder(), ["bubblewrap", "proot", "chroot"]);
});

Deno.test("a preferred backend goes first, the rest keep their order", () => {
  assertEquals(backendOrder("proot"), ["proot", "bubblewrap", "chroot"]);
  assertEquals(backendOrder("chroot"), ["chroot", "bubblewrap", "proot"]);
  assertEquals(backendOrder("bubblewrap"), ["bubblewrap", "proot", "chroot"]);
});

Deno.test("backendsInOrder returns the modules in that order", () => {
  assertEquals(
    backendsInOrder("chroot").map((b) => b.name),
    ["chroot", "bubblewrap", "proot"],
  );
});

Deno.test("only chroot needs real root", () => {
  assertEquals(
    backendsInOrder().map((b) => [b.name, b.needsRoot]),
    [["bubblewrap", false], ["proot", false], ["chroot", true]],
  );
});

Deno.test("backend names are checked exactly", () => {
  assertEquals(isBackendName("proot"), true);
  assertEquals(isBackendName("bwrap"), false);
  assertEquals(isBackendName("Proot"), false);
});

Deno.test("--allow-run lists exactly what the backends and the pty relay spawn", () => {
  assertEquals(runnablePrograms(), [
    "bwrap",
    "perl",
    "proot",
    "script",
    "setpriv",
    "sh",
    "unshare",
  ]);
});

Deno.test("an isolation floor allows it and the stronger backends only", () => {
  assertEquals(atOrAbove(), ["bubblewrap", "proot", "chroot"]);
  assertEquals(atOrAbove("bubblewrap"), ["bubblewrap"]);
  assertEquals(atOrAbove("proot"), ["bubblewrap", "proot"]);
  assertEquals(atOrAbove("chroot"), ["bubblewrap", "proot", "chroot"]);
  assertEquals(
    backendsInOrder("proot", "proot").map((b) => b.name),
    ["proot", "bubblewrap"],
  );
  assertEquals(
    backendsInOrder(undefined, "bubblewrap").map((b) => b.name),
    ["bubblewrap"],
  );
});

Deno.test("--isolation below the floor is a usage error", () => {
  checkFloor("bubblewrap", "bubblewrap");
  checkFloor("proot", "chroot");
  checkFloor(undefined, "bubblewrap");
  checkFloor("chroot", undefined);
  assertThrows(() => checkFloor("proot", "bubblewrap"), UsageError);
  assertThrows(() => checkFloor("chroot", "proot"), UsageError);
});

Deno.test("the fall-back notice names each skipped backend and the one used", () => {
  assertEquals(
    fallbackNotice([{
      backend: "bubblewrap",
      reason: '"bwrap" not found on PATH',
    }], "proot"),
    'polythene: bubblewrap unusable here ("bwrap" not found on PATH); using proot',
  );
  assertEquals(
    fallbackNotice([
      { backend: "bubblewrap", reason: "probe failed: x", fix: "y" },
      {
        backend: "proot",
        reason: "cannot isolate the network (--network none)",
      },
    ], "chroot"),
    "polythene: bubblewrap unusable here (probe failed: x); proot unusable here (cannot isolate the network (--network none)); using chroot",
  );
});
