import { assertEquals } from "../helpers/assert.ts";
import { rawComparison } from "../../scripts/_bench_startup.ts";

Deno.test("rawComparison divides each exec by empty deno plus each raw backend, per round", () => {
  const samples = new Map<string, number[]>([
    ["empty", [20, 30, 20]],
    ["bwrap:raw", [5, 10, 10]],
    ["proot:raw", [10, 20, 20]],
    ["bwrap:p", [25, 60, 36]],
    ["proot:p", [60, 100, 80]],
  ]);
  const table = rawComparison(
    [
      { name: "bubblewrap", raw: "bwrap:raw", polythene: "bwrap:p" },
      { name: "proot", raw: "proot:raw", polythene: "proot:p" },
    ],
    samples,
    "empty",
    1.3,
  );
  const rows = table.split("\n").slice(2).map((line) =>
    line.split("|").map((cell) => cell.trim()).filter((cell) => cell !== "")
  );
  assertEquals(rows, [
    // Against bwrap 25/25, 60/40, 36/30 = 1.0, 1.5, 1.2; against proot
    // 25/30, 60/50, 36/40 = 0.83, 1.2, 0.9.
    ["bubblewrap", "1.20", "0.90", "met (own backend)"],
    // 60/25, 100/40, 80/30 = 2.4, 2.5, 2.67; 60/30, 100/50, 80/40 = 2.
    ["proot", "2.50", "2.00", "NOT met (own backend)"],
  ]);
});
