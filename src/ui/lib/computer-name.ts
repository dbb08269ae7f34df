/**
 * The name of the computer a page runs on, for the two-computer mode (issue 14): browsers do not
 * tell a page its machine's name, so the page asks. `?computer=NAME` sets it (and is kept), else
 * the name kept in this browser's storage, else a default from the platform and a short random
 * id, kept so a reload shows the same name. Names are trimmed and at most 40 characters.
 */
export const COMPUTER_KEY = "lockstep-computer";
const MAX = 40;

export interface NameStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export function cleanName(raw: string | null | undefined): string | null {
  const s = (raw ?? "").replace(/\s+/g, " ").trim().slice(0, MAX);
  return s === "" ? null : s;
}

export function computerName(params: URLSearchParams, store: NameStore | null, platform: string, random: () => number = Math.random): string {
  const given = cleanName(params.get("computer"));
  const kept = cleanName(safeGet(store));
  const name = given ?? kept ?? `${cleanName(platform.split(/[\s;]/)[0]) ?? "computer"}-${Math.floor(random() * 0x10000).toString(16).padStart(4, "0")}`;
  if (name !== kept) safeSet(store, name);
  return name;
}

/** Renamed on the page: kept for the next visit. Returns the name in use (the old one if `raw` is empty). */
export function renameComputer(raw: string, old: string, store: NameStore | null): string {
  const name = cleanName(raw) ?? old;
  safeSet(store, name);
  return name;
}

// Storage may be refused (a locked-down profile): the name then lives for this page only.
function safeGet(store: NameStore | null): string | null {
  try {
    return store?.getItem(COMPUTER_KEY) ?? null;
  } catch {
    return null;
  }
}

function safeSet(store: NameStore | null, name: string): void {
  try {
    store?.setItem(COMPUTER_KEY, name);
  } catch {
    /* kept for this page only */
  }
}
