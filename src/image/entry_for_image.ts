/**
 * `run`'s first step: the stored entry IMAGE stands for, pulled when the
 * `--pull` policy asks for it.
 *
 * - `missing` (default): the newest entry pulled from the same reference;
 *   pull only when there is none. The registry is not contacted otherwise.
 * - `always`: ask the registry (or read the layout) for the digest first,
 *   then use the newest entry at that digest, or pull it (`pull --reuse`).
 * - `never`: the newest entry pulled from the same reference, or an error;
 *   nothing is contacted.
 *
 * @module
 */

import { PolytheneError } from "../errors.ts";
import { hostPlatform, parsePlatform } from "./platform.ts";
import type { PullRequest } from "./pull.ts";
import { findStoredEntry, referenceKey } from "./reuse.ts";
import { parseImageSource } from "./source.ts";

/** `--pull`'s values. */
export const PULL_POLICIES = ["missing", "always", "never"] as const;

/** When `run` pulls. */
export type PullPolicy = typeof PULL_POLICIES[number];

/** What to do, given the policy and whether a stored entry matched. */
export type EntryPlan =
  | { action: "use"; uuid: string }
  | { action: "pull"; reuse: boolean }
  | { action: "fail" };

/**
 * The decision: under `always` the registry decides (pull with reuse);
 * otherwise a stored match is used, and a missing one is pulled
 * (`missing`) or refused (`never`). Pure.
 */
export function planEntry(
  policy: PullPolicy,
  stored: string | undefined,
): EntryPlan {
  if (policy === "always") return { action: "pull", reuse: true };
  if (stored !== undefined) return { action: "use", uuid: stored };
  return policy === "never" ? { action: "fail" } : {
    action: "pull",
    reuse: false,
  };
}

/**
 * The UUID of the entry `request.image` stands for, pulling it as
 * `policy` says.
 *
 * @returns The entry's UUID.
 * @throws {UsageError} a malformed IMAGE or platform (2);
 * {PolytheneError} (1) under `never` when nothing is stored, and what
 * `pullImage` throws.
 */
export async function entryForImage(
  request: PullRequest,
  policy: PullPolicy,
): Promise<string> {
  const source = parseImageSource(request.image);
  const platform = request.platform
    ? parsePlatform(request.platform)
    : hostPlatform();
  const stored = policy === "always" ? undefined : await findStoredEntry(
    request.store,
    { key: referenceKey(source, request.image), platform },
  );
  const plan = planEntry(policy, stored?.uuid);
  switch (plan.action) {
    case "use":
      request.log(`using ${request.store}/${plan.uuid}`);
      return plan.uuid;
    case "fail":
      throw new PolytheneError(
        `No entry pulled from "${request.image}" in the store "${request.store}" and --pull never: pull it first, or leave out --pull never`,
        { exitCode: 1 },
      );
    case "pull": {
      // Loaded on use: run with a stored entry never loads the puller.
      const { pullImage } = await import("./pull.ts");
      return await pullImage({ ...request, reuse: plan.reuse });
    }
  }
}
