import { assertEquals } from "../../helpers/assert.ts";
import {
  detectEmulation,
  readBinfmtEntry,
} from "../../../src/backends/emulation_host.ts";

Deno.test("readBinfmtEntry() refuses a name that is not a plain arch", async () => {
  for (const arch of ["../status", "a/b", "", "x y"]) {
    assertEquals(await readBinfmtEntry(arch, "/usr/bin:/bin"), undefined);
  }
});

Deno.test("readBinfmtEntry() without sh on PATH reads nothing", async () => {
  const empty = await Deno.makeTempDir();
  try {
    assertEquals(await readBinfmtEntry("aarch64", empty), undefined);
  } finally {
    await Deno.remove(empty);
  }
});

Deno.test("detectEmulation() finds qemu on the PATH it is given, -static first", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const name of ["qemu-riscv64", "qemu-riscv64-static"]) {
      await Deno.writeTextFile(`${dir}/${name}`, "");
      await Deno.chmod(`${dir}/${name}`, 0o755);
    }
    const found = await detectEmulation(
      { architecture: "riscv64" },
      "linux/riscv64",
      dir,
    );
    assertEquals(found.arch, "riscv64");
    assertEquals(found.qemu, `${dir}/qemu-riscv64-static`);
    await Deno.remove(`${dir}/qemu-riscv64-static`);
    const plain = await detectEmulation(
      { architecture: "riscv64" },
      "linux/riscv64",
      dir,
    );
    assertEquals(plain.qemu, `${dir}/qemu-riscv64`);
    assertEquals(
      await detectEmulation({ architecture: "wasm" }, "linux/wasm", dir),
      { platform: "linux/wasm" },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
