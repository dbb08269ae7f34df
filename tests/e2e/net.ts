import { createHash } from "node:crypto";
import type { Page } from "@playwright/test";
import type { DownloadView, NetworkView } from "../../src/cluster/client-network.ts";

/** The sha256 of the guest's `mkfile` output: the decimal line numbers 1, 2, 3 … up to `mib` MiB (scripts/images/rootfs). */
export function expectedSha(mib: number): string {
  const h = createHash("sha256");
  let left = mib * 1048576;
  for (let n = 1; left > 0; n++) {
    const line = `${n}\n`.slice(0, left);
    h.update(line);
    left -= line.length;
  }
  return h.digest("hex");
}

/** The page's client network, in either mode. */
export const netView = (page: Page) => page.evaluate(() => window.lockstep!.cluster.network.view()) as Promise<NetworkView>;
export const download = (page: Page, path: string) => page.evaluate((p) => window.lockstep!.cluster.network.download(p), path);
export const downloadView = async (page: Page, id: number): Promise<DownloadView> => (await netView(page)).downloads[id - 1]!;
