import { describe, expect, it } from "vitest";
import { isGarbage } from "../../../src/cluster/disk-gc.ts";
import type { HostStatus } from "../../../src/host/status.ts";

const st = (role: HostStatus["role"], state: string, epoch: number) => ({ role, state, epoch }) as HostStatus;

describe("non-shared disk garbage: whose copy the live primary (epoch 2) may delete", () => {
  it("a dead host, a halted one, or a primary or backup of an older epoch: they can never be live again", () => {
    expect(isGarbage({ status: st("backup", "replaying", 2), dead: true }, 2)).toBe(true);
    expect(isGarbage({ status: st("primary", "halted", 1), dead: false }, 2)).toBe(true);
    expect(isGarbage({ status: st("primary", "recording", 1), dead: false }, 2)).toBe(true);
    // A backup whose tab went quiet while the primary went alone in a new epoch.
    expect(isGarbage({ status: st("backup", "replaying", 1), dead: false }, 2)).toBe(true);
  });

  it("never a backup of the live epoch or a standby that only went quiet (it may be alive), nor the live primary itself", () => {
    expect(isGarbage({ status: st("backup", "replaying", 2), dead: false }, 2)).toBe(false);
    expect(isGarbage({ status: st("standby", "waiting", 0), dead: false }, 2)).toBe(false);
    expect(isGarbage({ status: st("primary", "alone", 2), dead: false }, 2)).toBe(false);
    expect(isGarbage({ status: null, dead: false }, 2)).toBe(false);
  });
});
