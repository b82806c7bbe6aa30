/**
 * `polythene doctor [--json] [--refresh]`: which backends work here, why the
 * others do not, how to fix them, and which one `exec` would use.
 *
 * @module
 */

import { type DoctorReport, runDoctor } from "../backends/doctor.ts";
import { detectHost } from "../backends/host.ts";
import { ProbeCache } from "../backends/probe_cache.ts";
import { ExitCode } from "../errors.ts";
import { createLog } from "../log.ts";
import { checkStoreRoot } from "../store/root_safety.ts";
import { stateDir } from "../store/store.ts";
import type { OptionValues } from "./parse.ts";
import { idMapValue, isolationValue, stringValue } from "./values.ts";

/** Runs `doctor`; returns 0 when some backend works, else 126. */
export async function doctorCommand(values: OptionValues): Promise<number> {
  const store = stringValue(values, "store");
  // The probe cache lives in the store: create it as `exec`'s pull would.
  await checkStoreRoot(store, { create: true });
  const report = await runDoctor({
    store,
    cache: new ProbeCache(`${stateDir(store)}/probes.json`),
    hostPath: Deno.env.get("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin",
    host: detectHost(),
    preferred: isolationValue(values),
    idMap: idMapValue(values),
    refresh: values.refresh === true,
    log: createLog(values.verbose === true),
  });
  console.log(
    values.json === true
      ? JSON.stringify(report, null, 2)
      : formatReport(report),
  );
  return report.selected === null ? ExitCode.NoBackend : 0;
}

/** The human-readable report. Pure. */
export function formatReport(report: DoctorReport): string {
  const { host } = report;
  const sysctls = Object.entries(host.sysctls)
    .map(([name, value]) => `${name}=${value}`).join(" ");
  const lines = [
    `host: uid ${host.uid}${host.realRoot ? " (real root)" : ""}, ` +
    `kernel ${host.kernel}`,
    `sysctls: ${sysctls || "none readable"}`,
  ];
  for (const b of report.backends) {
    lines.push("", `${b.name}: ${b.usable ? "works" : "unusable"}`);
    const programs = Object.entries(b.programs)
      .map(([name, path]) => path ?? `${name} (not found)`).join(" ");
    lines.push(`  programs: ${programs}`);
    lines.push(`  version:  ${b.version ?? "unknown"}`);
    lines.push(
      `  probe:    ${
        b.probe === null
          ? "not run"
          : `${b.probe.ok ? "ok" : "failed"} (${b.probe.probedAt})`
      }`,
    );
    if (b.problem !== null) {
      lines.push(`  problem:  ${b.problem.kind}: ${b.problem.cause}`);
      lines.push(`  fix:      ${b.problem.fix}`);
    }
    const i = b.isolates;
    lines.push(
      `  isolates: pid ${yes(i.pid)}, network ${yes(i.network)}, ` +
        `mounts ${yes(i.mounts)}; root ${i.root}`,
    );
  }
  lines.push(
    "",
    `id maps (a root run as this user, --id-map ${report.idMaps.requested}):`,
  );
  for (const [name, m] of Object.entries(report.idMaps.backends)) {
    lines.push(`  ${name}: ${m.mode}: ${m.reason}; ${m.ownership}`);
  }
  if (report.idMaps.fix !== null) lines.push(`  fix: ${report.idMaps.fix}`);
  lines.push("", ...formatEmulation(report.emulation));
  lines.push(
    "",
    report.selected === null
      ? "exec would use: none (exit 126): no backend can run here"
      : `exec would use: ${report.selected}`,
  );
  return lines.join("\n");
}

/** The emulation section: per architecture with qemu on PATH. Pure. */
export function formatEmulation(archs: DoctorReport["emulation"]): string[] {
  if (archs.length === 0) {
    return [
      "emulation: no qemu-user binary on PATH, so only images of this host's architecture run (apt-get install qemu-user-static)",
    ];
  }
  const lines = ["emulation (images of other architectures, via qemu-user):"];
  for (const a of archs) {
    const binfmt = a.binfmt === null
      ? "no binfmt_misc entry"
      : `binfmt_misc ${a.binfmt.enabled ? "enabled" : "disabled"}, flags ${
        a.binfmt.flags || "none"
      }`;
    lines.push(`  ${a.platform} (${a.arch}): ${a.qemu}; ${binfmt}`);
    for (const b of a.backends) {
      lines.push(
        b.usable
          ? `    ${b.name}: works${
            b.privateBinfmt ? " (over a private binfmt_misc instance)" : ""
          }`
          : `    ${b.name}: no: ${b.reason}${b.fix ? `; fix: ${b.fix}` : ""}`,
      );
    }
  }
  return lines;
}

function yes(value: boolean): string {
  return value ? "yes" : "no";
}
