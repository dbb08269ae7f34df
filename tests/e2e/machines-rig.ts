import { chromium, expect, type Browser, type BrowserServer, type Page } from "@playwright/test";
import { CHROMIUM_ARGS, CHROMIUM_PATH, TEST_CONTEXT } from "../chromium.ts";
import { clientText, poll, shows } from "./ft.ts";

/**
 * Two "computers" for the auth and relay specs, as machines.spec.ts makes them: a Chromium
 * process each (own profile), meeting only in etcd. Every RTCPeerConnection the page creates is
 * kept in `window.__pcs`, so a test can ask getStats which candidate pair the channel uses.
 */
export const myHost = (page: Page) => page.getByTestId("my-host");
export const myState = (page: Page) => myHost(page).locator(".badge.state");
export const myRole = (page: Page) => myHost(page).locator(".badge.role");

export interface Machine {
  server: BrowserServer;
  browser: Browser;
  page: Page;
}

export async function computer(machines: Machine[], baseURL: string, url: string): Promise<Machine> {
  const server = await chromium.launchServer({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, "--disable-features=WebRtcHideLocalIpsWithMdns"] });
  const browser = await chromium.connect(server.wsEndpoint());
  const context = await browser.newContext({ baseURL, viewport: { width: 1280, height: 800 }, ...TEST_CONTEXT });
  await context.addInitScript(() => {
    const Native = window.RTCPeerConnection;
    const pcs: RTCPeerConnection[] = [];
    (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs = pcs;
    window.RTCPeerConnection = class extends Native {
      constructor(config?: RTCConfiguration) {
        super(config);
        pcs.push(this);
      }
    } as typeof RTCPeerConnection;
  });
  const page = await context.newPage();
  const n = machines.length;
  page.on("console", (m) => m.type() === "error" && console.log(`[${n}] ${m.text()}`));
  await page.goto(url);
  const m = { server, browser, page };
  machines.push(m);
  return m;
}

/** The first page's host is the primary with the guest ready. */
export async function primaryReady(m: Machine): Promise<void> {
  await shows(myRole(m.page), "primary", { timeout: 120_000 });
  await poll(() => clientText(m.page), { timeout: 120_000 }).toMatch(/LOCKSTEP READY[\s\S]*lockstep# /);
}

export interface PairKinds {
  local: string;
  remote: string;
  /** The ICE policy the connection was made with. */
  policy: string;
  iceServers: number;
}

/** The candidate types of each connected peer connection's selected pair (getStats), and its config. */
export function selectedPairs(page: Page): Promise<PairKinds[]> {
  return page.evaluate(async () => {
    const out: PairKinds[] = [];
    for (const pc of (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs) {
      if (pc.connectionState !== "connected") continue;
      const stats = await pc.getStats();
      let pairId: string | undefined;
      stats.forEach((r: { type: string; selectedCandidatePairId?: string }) => {
        if (r.type === "transport" && r.selectedCandidatePairId) pairId = r.selectedCandidatePairId;
      });
      const pair = pairId ? stats.get(pairId) : undefined;
      if (!pair) continue;
      const config = pc.getConfiguration();
      out.push({
        local: stats.get(pair.localCandidateId)?.candidateType,
        remote: stats.get(pair.remoteCandidateId)?.candidateType,
        policy: config.iceTransportPolicy ?? "all",
        iceServers: config.iceServers?.length ?? 0,
      });
    }
    return out;
  });
}
