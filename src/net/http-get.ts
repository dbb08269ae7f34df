// A one-request HTTP/1.0 client over the client's TCP (client-stack.ts): GET a path, read the
// status line and headers, collect the body until the server closes (HTTP/1.0), report
// progress. One request per connection, so "the same connection survived the failover" is
// simply: this object saw one connect and one close.

import type { ClientStack } from "./client-stack.ts";
import type { Ip4 } from "./packets.ts";
import type { CloseReason, TcpConnection } from "./tcp.ts";

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

export interface HttpGetEvents {
  progress?(received: number, total: number | null): void;
  done?(r: HttpResponse): void;
  failed?(reason: CloseReason | "malformed"): void;
}

const HEADER_END = [13, 10, 13, 10];

export class HttpGet {
  readonly conn: TcpConnection;
  response: HttpResponse | null = null;
  error: CloseReason | "malformed" | null = null;
  private head: number[] = [];
  private status = 0;
  private headers: Record<string, string> = {};
  private total: number | null = null;
  private parts: Uint8Array[] = [];
  private received = 0;
  private inBody = false;

  constructor(stack: ClientStack, ip: Ip4, port: number, path: string, now: number, private readonly ev: HttpGetEvents = {}) {
    const req = new TextEncoder().encode(`GET ${path} HTTP/1.0\r\nHost: ${ip}\r\nConnection: close\r\n\r\n`);
    this.conn = stack.connect(ip, port, now, {
      // No half-close after the request: some servers take the client's FIN for a hang-up.
      // The server closes after its answer (HTTP/1.0); then we close our side.
      connected: () => this.conn.write(req, stack.lastTime),
      data: (b) => this.onData(b),
      end: () => {
        this.finish();
        this.conn.close(stack.lastTime);
      },
      closed: (r) => {
        if (!this.response && !this.error) this.fail(r === "fin" ? "malformed" : r);
      },
    });
  }

  get bytesReceived(): number {
    return this.received;
  }

  private onData(b: Uint8Array): void {
    let i = 0;
    while (!this.inBody && i < b.length) {
      this.head.push(b[i++]);
      const n = this.head.length;
      if (n >= 4 && HEADER_END.every((c, k) => this.head[n - 4 + k] === c)) this.parseHead();
      if (this.head.length > 16384) return this.fail("malformed");
    }
    if (this.inBody && i < b.length) {
      const part = b.slice(i);
      this.parts.push(part);
      this.received += part.length;
      this.ev.progress?.(this.received, this.total);
    }
  }

  private parseHead(): void {
    const lines = new TextDecoder("latin1").decode(Uint8Array.from(this.head)).split("\r\n");
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? "");
    if (!m) return this.fail("malformed");
    this.status = Number(m[1]);
    for (const l of lines.slice(1)) {
      const c = l.indexOf(":");
      if (c > 0) this.headers[l.slice(0, c).trim().toLowerCase()] = l.slice(c + 1).trim();
    }
    const cl = this.headers["content-length"];
    this.total = cl !== undefined && /^\d+$/.test(cl) ? Number(cl) : null;
    this.inBody = true;
  }

  private finish(): void {
    if (this.error || this.response) return;
    if (!this.inBody || (this.total !== null && this.received !== this.total)) return this.fail("malformed");
    const body = new Uint8Array(this.received);
    let o = 0;
    for (const p of this.parts) {
      body.set(p, o);
      o += p.length;
    }
    this.parts = [];
    this.response = { status: this.status, headers: this.headers, body };
    this.ev.done?.(this.response);
  }

  private fail(reason: CloseReason | "malformed"): void {
    if (this.error || this.response) return;
    this.error = reason;
    this.ev.failed?.(reason);
  }
}
