import { fromBase64, toBase64, type EtcdClient, type EtcdFailure, type WatchEvent } from "../../storage/etcd/index.ts";
import type { BusMsg } from "../messages.ts";

/**
 * The cluster service's messages between computers, over etcd: each member owns one key,
 * `<p>bus/<member>`, and every post overwrites it with the messages queued since its last put
 * (attached to the member's lease, so it vanishes with the member). Every member watches
 * `<p>bus/`: a watch reports each revision of a key, not only its last, so nothing posted is
 * skipped, and one member's puts are sequential, so its messages arrive in order (BroadcastChannel's
 * guarantee). History is compacted by etcd (`--auto-compaction-retention`); only one key per
 * member lives on.
 *
 * Messages are JSON with Uint8Arrays as `{"$u8": base64}` (what BroadcastChannel's structured
 * clone carried).
 */
export function encodeBusMsgs(from: string, msgs: BusMsg[]): Uint8Array {
  const json = JSON.stringify({ from, msgs }, (_k, v: unknown) => (v instanceof Uint8Array ? { $u8: toBase64(v) } : v));
  return new TextEncoder().encode(json);
}

export function decodeBusMsgs(bytes: Uint8Array): { from: string; msgs: BusMsg[] } | null {
  try {
    const v = JSON.parse(new TextDecoder().decode(bytes), (_k, v: unknown) => {
      if (typeof v === "object" && v !== null && !Array.isArray(v)) {
        const keys = Object.keys(v);
        const u8 = (v as { $u8?: unknown }).$u8;
        if (keys.length === 1 && typeof u8 === "string") return fromBase64(u8);
      }
      return v;
    }) as { from?: unknown; msgs?: unknown };
    return typeof v.from === "string" && Array.isArray(v.msgs) ? { from: v.from, msgs: v.msgs as BusMsg[] } : null;
  } catch {
    return null;
  }
}

export class EtcdBus {
  private readonly handlers = new Map<BusMsg["t"], ((m: BusMsg) => void)[]>();
  private queue: BusMsg[] = [];
  private sending = false;
  closed = false;

  constructor(
    private readonly client: EtcdClient,
    private readonly dir: string,
    private readonly self: string,
    /** The member's lease, once it has one (posts before that wait for it). */
    private readonly lease: () => Promise<string>,
    /** A put that failed: those messages are lost, as on a cut network. */
    private readonly onFailure: (f: EtcdFailure) => void,
  ) {}

  get key(): string {
    return `${this.dir}${this.self}`;
  }

  on<T extends BusMsg["t"]>(t: T, handler: (m: Extract<BusMsg, { t: T }>) => void): void {
    const list = this.handlers.get(t) ?? [];
    list.push(handler as (m: BusMsg) => void);
    this.handlers.set(t, list);
  }

  /** To this member's handlers only (a goodbye learnt from a lost lease). */
  deliver(msg: BusMsg): void {
    for (const h of this.handlers.get(msg.t) ?? []) h(msg);
  }

  post(msg: BusMsg): void {
    if (this.closed) return;
    this.queue.push(msg);
    if (!this.sending) void this.flush();
  }

  /** One put at a time, carrying everything queued meanwhile: order per sender, few writes. */
  private async flush(): Promise<void> {
    this.sending = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const batch = this.queue;
        this.queue = [];
        const lease = await this.lease();
        await this.client.put(this.key, encodeBusMsgs(this.self, batch), lease).catch((e: unknown) => {
          if (e && typeof e === "object" && "failure" in e) this.onFailure((e as { failure: EtcdFailure }).failure);
        });
      }
    } finally {
      this.sending = false;
    }
  }

  /** Watch events on `dir`: another member's put is its batch of messages. */
  receive(events: WatchEvent[]): void {
    for (const e of events) {
      if (e.type !== "put" || e.kv.key === this.key || this.closed) continue;
      const batch = decodeBusMsgs(e.kv.value);
      if (!batch) continue; // not ours: a foreign or damaged key under the prefix carries nothing
      for (const m of batch.msgs) this.deliver(m);
    }
  }
}
