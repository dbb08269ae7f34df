import type { ClusterStorage } from "./ports.ts";
import type { VmIdentity } from "./messages.ts";

/** A VM as it starts: the disk it runs on, the lock-record epoch and the virtual wall clock at boot. */
export interface NewVm extends VmIdentity {
  epoch: number;
  /** Virtual wall clock at boot: a pair booted together must agree on it to replay identically. */
  sessionEpochMs: number;
}

/**
 * The new-VM sequence: a fresh lock record (epoch 0, nobody live) claimed at once by the
 * primary-to-be, so its first epoch is 1; in non-shared mode, the own disk copies earlier VMs
 * left go first; a new disk id, so no block of an earlier VM is read.
 */
export async function newVm(
  storage: ClusterStorage,
  diskMode: VmIdentity["diskMode"],
  primaryId: string,
  clearDiskCopies: () => Promise<void>,
  wallNow: number,
): Promise<NewVm> {
  await storage.lock.reset();
  if (diskMode === "non-shared") await clearDiskCopies();
  const tas = await storage.lock.testAndSet(0, primaryId);
  // Lost: another member reset the record and claimed it in between; its VM is the one.
  if (!tas.ok) throw new Error(`another member started a VM at the same time (lock record: ${tas.record.owner}, epoch ${tas.record.epoch})`);
  const { record } = tas;
  return { diskId: `disk-${wallNow}`, diskMode, epoch: record.epoch, sessionEpochMs: wallNow };
}
