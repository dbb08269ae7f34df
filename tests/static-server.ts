import { createReadStream, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";

/**
 * The plainest static host a course could have: files of a directory under a sub-path, a
 * content type by extension, nothing else — no COOP/COEP, no CSP, no SPA fallback, no caching
 * headers. Tests serve the built `dist/` with it to prove the app needs no special server.
 */
const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".mjs": "text/javascript",
  ".css": "text/css",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".webmanifest": "application/manifest+json",
};

export interface StaticServer {
  /** http://127.0.0.1:port */
  origin: string;
  port: number;
  /** Every request path, in order, with its status (a test checks nothing escaped the sub-path). */
  requests: { path: string; status: number }[];
  /**
   * Cuts the network (a classroom's Wi-Fi fails): every request, service workers' included, has
   * its connection reset and is logged with status 0. Unlike the browser's offline emulation,
   * this cannot miss a request the browser makes on some path it does not emulate.
   */
  setOffline(offline: boolean): void;
  close(): Promise<void>;
}

/**
 * Serves `dir` at `mount` (e.g. "/courses/ds/lockstep/"), and `extra` pages (path → HTML) for
 * a test's own pages, e.g. a course page that embeds the app. Listens on a free port.
 */
export async function serveStatic(dir: string, mount: string, extra: Record<string, string> = {}): Promise<StaticServer> {
  const root = path.resolve(dir);
  const requests: StaticServer["requests"] = [];
  let offline = false;
  const server: Server = createServer((req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    if (offline) {
      requests.push({ path: urlPath, status: 0 });
      req.socket.destroy();
      return;
    }
    const reply = (status: number, headers: Record<string, string | number> = {}) => {
      requests.push({ path: urlPath, status });
      res.writeHead(status, headers);
    };
    if (extra[urlPath] !== undefined) {
      reply(200, { "content-type": TYPES[".html"]! });
      res.end(extra[urlPath]);
      return;
    }
    if (!urlPath.startsWith(mount)) {
      reply(404);
      res.end();
      return;
    }
    let file = path.join(root, urlPath.slice(mount.length));
    if (!file.startsWith(root)) {
      reply(403);
      res.end();
      return;
    }
    try {
      if (statSync(file).isDirectory()) file = path.join(file, "index.html");
      const size = statSync(file).size;
      reply(200, { "content-type": TYPES[path.extname(file)] ?? "application/octet-stream", "content-length": size });
      createReadStream(file).pipe(res);
    } catch {
      reply(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    requests,
    setOffline: (on) => void (offline = on),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
