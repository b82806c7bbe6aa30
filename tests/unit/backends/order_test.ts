import { assertEquals } from "../../helpers/assert.ts";
import {
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

Deno.test("--allow-run lists exactly what the backends spawn", () => {
  assertEquals(runnablePrograms(), ["bwrap", "perl", "proot", "sh", "unshare"]);
});
