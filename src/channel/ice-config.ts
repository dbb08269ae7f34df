/**
 * How a logging channel's peer connection finds a path (issue 14): its ICE servers and whether
 * only relayed paths may be used. In one browser, and on a LAN where host candidates reach,
 * none is needed (`NO_ICE`). On a network that blocks browser-to-browser traffic,
 * `npm run classroom -- --turn` starts a TURN relay (Debian's coturn) and publishes this
 * config in etcd (`ICE_CONFIG_KEY`), where every page reads it when it joins: the relay's
 * address and secret come from the machine that runs it, never from the app's code or its URL.
 */
export interface IceServer {
  /** `turn:<host>:<port>?transport=udp` (or `stun:`). */
  urls: string[];
  username?: string;
  credential?: string;
}

export interface IceConfig {
  iceServers: IceServer[];
  /** `relay`: only paths through the TURN server (to prove it works, or where nothing else does). */
  iceTransportPolicy: "all" | "relay";
}

export const NO_ICE: IceConfig = { iceServers: [], iceTransportPolicy: "all" };

/** The key under the app's prefix where npm run classroom puts the config (JSON). */
export const ICE_CONFIG_KEY = "/lockstep/.classroom/ice";

const str = (v: unknown): v is string => typeof v === "string" && v !== "";

/** Parses the stored JSON; throws with what is wrong, so the page can say it. */
export function parseIceConfig(text: string): IceConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new Error(`ICE config is not JSON: ${JSON.stringify(text.slice(0, 60))}`);
  }
  const o = raw as { iceServers?: unknown; iceTransportPolicy?: unknown };
  if (typeof raw !== "object" || raw === null || !Array.isArray(o.iceServers)) throw new Error("ICE config has no iceServers list");
  const policy = o.iceTransportPolicy ?? "all";
  if (policy !== "all" && policy !== "relay") throw new Error(`ICE config's iceTransportPolicy ${JSON.stringify(policy)} is neither "all" nor "relay"`);
  const iceServers = o.iceServers.map((s: unknown, i): IceServer => {
    const e = s as { urls?: unknown; username?: unknown; credential?: unknown };
    const urls = typeof e?.urls === "string" ? [e.urls] : e?.urls;
    if (!Array.isArray(urls) || urls.length === 0 || !urls.every((u) => str(u) && /^(turns?|stuns?):/.test(u))) throw new Error(`ICE server ${i} has no turn:/stun: urls`);
    if (urls.some((u: string) => u.startsWith("turn")) && !(str(e.username) && str(e.credential))) throw new Error(`ICE server ${i} (TURN) needs a username and credential`);
    return { urls, ...(str(e.username) ? { username: e.username } : {}), ...(str(e.credential) ? { credential: e.credential } : {}) };
  });
  if (policy === "relay" && !iceServers.some((s) => s.urls.some((u) => u.startsWith("turn")))) throw new Error("ICE config says relay only but names no TURN server");
  return { iceServers, iceTransportPolicy: policy };
}
