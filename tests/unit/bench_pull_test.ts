import { strict as assert } from "node:assert";
import {
  parseMaxRssKiB,
  parseVmHwmKiB,
  pullPhases,
} from "../../scripts/_bench_pull.ts";

Deno.test("parseMaxRssKiB() reads GNU time's -f %M line", () => {
  assert.equal(parseMaxRssKiB("117332\n"), 117332);
  // A failed command makes time write a status line first.
  assert.equal(
    parseMaxRssKiB("Command exited with non-zero status 1\n4096\n"),
    4096,
  );
  assert.equal(parseMaxRssKiB(""), undefined);
  assert.equal(parseMaxRssKiB("12 MB\n"), undefined);
});

Deno.test("parseVmHwmKiB() reads the high-water mark of /proc/PID/status", () => {
  const status = "Name:\tdeno\nVmPeak:\t  900000 kB\nVmHWM:\t  123456 kB\n" +
    "VmRSS:\t  100000 kB\n";
  assert.equal(parseVmHwmKiB(status), 123456);
  assert.equal(parseVmHwmKiB("Name:\tzombie\n"), undefined);
});

Deno.test("pullPhases() splits a verbose pull by its timestamps", () => {
  const startedAt = Date.parse("2026-11-26T22:58:15.900Z");
  const stderr = [
    "2026-11-26T22:58:15.980Z polythene: staging /s/.polythene/staging/x",
    "2026-11-26T22:58:16.018Z polythene: GET http://h/v2/ → 200",
    "2026-11-26T22:58:16.031Z polythene: blob sha256:f90ed7281a12 downloading (48827696 bytes)",
    "2026-11-26T22:58:19.135Z polythene: published /s/x",
    "",
  ].join("\n");
  assert.deepEqual(pullPhases(stderr, startedAt, 3_240), {
    start: 80,
    resolve: 51,
    layer: 3_104,
    exit: 5,
  });
});

Deno.test("pullPhases() is undefined without the lines it needs", () => {
  assert.equal(pullPhases("", 0, 1), undefined);
  assert.equal(
    pullPhases("2026-11-26T22:58:15.980Z polythene: staging x\n", 0, 1),
    undefined,
  );
});
