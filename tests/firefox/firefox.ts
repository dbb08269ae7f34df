import { existsSync } from "node:fs";
import path from "node:path";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { expect } from "vitest";
import type {} from "../../src/ui/test-hook.ts";
import { serveStatic, type StaticServer } from "../static-server.ts";
import { answeredAfterEcho, PROMPT } from "../helpers/console.ts";

/** Debian's Firefox ESR (scripts/ensure-firefox.sh installs it), never a downloaded browser. */
export const FIREFOX_PATH = process.env.FIREFOX_PATH ?? "/usr/bin/firefox-esr";
const DIST = path.resolve(import.meta.dirname, "../../dist");

export interface Firefox {
  browser: Browser;
  /** The app's address on the first site. */
  url: string;
  /** Serves the app on a site of its own (a new port: a new origin, with its own storage and tabs). */
  newSite(): Promise<string>;
  close(): Promise<void>;
}

/**
 * Serves the built dist/ (`npm run test:firefox` builds it) under a sub-path with the plain
 * static server, and launches headless Firefox on a fresh profile.
 */
export async function launchFirefox(): Promise<Firefox> {
  if (!existsSync(path.join(DIST, "index.html"))) throw new Error(`no build in ${DIST}: run \`npx vite build\` first`);
  if (!existsSync(FIREFOX_PATH)) throw new Error(`${FIREFOX_PATH} is missing: run \`bash scripts/ensure-firefox.sh\``);
  const servers: StaticServer[] = [];
  const newSite = async () => {
    const server = await serveStatic(DIST, "/lockstep/");
    servers.push(server);
    return `${server.origin}/lockstep/`;
  };
  const url = await newSite();
  const browser = await puppeteer.launch({ browser: "firefox", executablePath: FIREFOX_PATH, headless: true });
  return {
    browser,
    url,
    newSite,
    close: async () => {
      await browser.close();
      for (const s of servers) await s.close();
    },
  };
}

export const clientText = (page: Page): Promise<string> => page.evaluate(() => window.lockstep!.clientText());

/**
 * Types a command into the client console (the page's xterm) and waits for `expected` on a line
 * after the command's own echo (tests/e2e/ft.ts does the same in Chromium).
 */
export async function run(page: Page, command: string, expected: string, timeout = 30_000): Promise<void> {
  await expect.poll(() => clientText(page), { timeout, interval: 100, message: "the guest shell's prompt" }).toMatch(PROMPT);
  const before = (await clientText(page)).length;
  await page.click('[aria-label="Client console"]');
  await page.keyboard.type(command + "\n");
  const answered = async () => answeredAfterEcho((await clientText(page)).slice(before), command, expected);
  await expect.poll(answered, { timeout, interval: 100, message: `"${expected}" after the echo of "${command}"` }).toBe(true);
}

/** A host card's state badge (`recording`, `replaying`, …), or null while it has none. */
export function badge(page: Page, selector: string, which: "state" | "role" = "state"): Promise<string | null> {
  return page.evaluate((sel, w) => document.querySelector(`${sel} .badge.${w}`)?.textContent?.trim() ?? null, selector, which);
}

/**
 * The page's protocol feed (every host's events and the cluster service's notes, in this page's
 * clock), one line each, and what its cluster knows of each host: printed when a test fails.
 */
export function feedLines(page: Page, last = 120): Promise<string> {
  return page.evaluate((n) => {
    const c = window.lockstep?.cluster;
    if (!c) return "(no cluster)";
    const hosts = c.hosts.map((h) => `${h.id}:${h.status ? `${h.status.role}/${h.status.state}@${h.status.epoch}` : "no status"}${h.dead ? " dead" : ""}`).join(" ");
    const lines = c.events.slice(-n).map((e) => `${(e.at / 1000).toFixed(2).padStart(8)} ${e.hostId.padEnd(10)} ${e.text}`);
    return `hosts here: ${hosts}\n${lines.join("\n")}`;
  }, last);
}
