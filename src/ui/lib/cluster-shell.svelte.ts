import type { ClientNetwork } from "../../cluster/client-network.ts";
import type { ConsoleClient } from "../../ft/protocol/index.ts";
import type { LockRecord } from "../../storage/index.ts";
import type { PageNoteKind, ProtocolEvent } from "../../host/events.ts";
import type { ClusterPart, ClusterService } from "../../cluster/service.ts";

/**
 * What both modes show of their cluster service, as reactive state: the feed, the lock record,
 * the client. The service is plain TypeScript; on each change it names the part that changed
 * and the shell copies that part into $state (raw: replaced, never mutated).
 */
export class ClusterShell {
  events = $state.raw<ProtocolEvent[]>([]);
  lock = $state.raw<LockRecord | null>(null);
  /** Contiguous console bytes the client holds, and anomalies it saw (must stay 0). */
  clientBytes = $state(0);
  clientConflicts = $state(0);
  #autoRestore = $state(false);

  constructor(protected readonly svc: ClusterService) {
    this.#autoRestore = svc.options.autoRestore;
    svc.onChange((part) => this.sync(part));
  }

  get autoRestore(): boolean {
    return this.#autoRestore;
  }

  set autoRestore(on: boolean) {
    this.#autoRestore = on;
    this.svc.setAutoRestore(on);
  }

  /** This member's network (switch + the client's TCP/IP) to the guest's httpd (issue 13); in tab mode it spans the tabs. */
  get network(): ClientNetwork {
    return this.svc.network;
  }

  get client(): ConsoleClient {
    return this.svc.mirror.client;
  }

  onConsole(display: (bytes: Uint8Array) => void): void {
    this.svc.mirror.onConsole(display);
  }

  type(text: string): void {
    this.svc.mirror.type(text);
  }

  /** The client's whole console stream as text. */
  clientText(): string {
    return new TextDecoder().decode(this.client.stream());
  }

  /** Every protocol event as it is noted (the embed API forwards them to the parent page). */
  onEvent(fn: (e: ProtocolEvent) => void): () => void {
    return this.svc.log.onEvent(fn);
  }

  /** A line in the protocol feed from the page itself (teaching UI, embed API). */
  noteEvent(hostId: string, kind: PageNoteKind, text: string): void {
    this.svc.note(hostId, kind, text);
  }

  dispose(): void {
    this.svc.dispose();
  }

  protected sync(part: ClusterPart): void {
    if (part === "events") this.events = this.svc.log.events.slice();
    else if (part === "lock") this.lock = this.svc.lock.record;
    else if (part === "client") {
      this.clientBytes = this.client.length;
      this.clientConflicts = this.client.conflicts;
    }
  }
}
