import { readFileSync } from "node:fs";
import { defineConfig } from "vite";
import { svelte } from "@sveltejs/vite-plugin-svelte";
import { VitePWA } from "vite-plugin-pwa";

/**
 * The guest images' precache revisions are their sha256 from the images manifest (the same
 * digests the hosts verify), so a rebuilt image is a new revision and an unchanged one is never
 * downloaded again by a new deployment's service worker. The same digest is the fetch's
 * subresource integrity: a file that does not match (a host or CDN half-way through a
 * deployment) fails the service worker's install instead of being kept as the offline copy.
 */
const imageFiles: Record<string, { sha256: string }> = JSON.parse(readFileSync(new URL("public/images/manifest.json", import.meta.url), "utf8")).files;

// Fixed ports: IndexedDB is per origin, so tests and demos need a stable one.
export default defineConfig({
  // Relative base: the build works from any path (a GitHub Pages project page, a course's web space).
  base: "./",
  plugins: [
    svelte(),
    // Works offline once loaded (docs/deploy.md): a Workbox service worker precaches the app and
    // the guest images. "prompt", not "autoUpdate": a new deployment waits until the next visit
    // instead of reloading a page whose VMs are running (src/ui/lib/offline.svelte.ts).
    VitePWA({
      strategies: "generateSW",
      registerType: "prompt",
      injectRegister: false,
      manifest: false,
      workbox: {
        globPatterns: ["**/*.{js,css,html,wasm}", "images/*"],
        // The README is documentation, not part of the VM.
        globIgnores: ["images/README.md"],
        // v86.wasm (2.1 MB) and initrd.img (2.1 MB) are above Workbox's 2 MiB default.
        maximumFileSizeToCacheInBytes: 8 * 1024 * 1024,
        manifestTransforms: [
          async (entries) => ({
            manifest: entries.map((e) => {
              const name = e.url.startsWith("images/") ? e.url.slice("images/".length) : null;
              const sha = name ? imageFiles[name]?.sha256 : undefined;
              return sha ? { ...e, revision: sha, integrity: `sha256-${Buffer.from(sha, "hex").toString("base64")}` } : e;
            }),
            warnings: [],
          }),
        ],
      },
    }),
  ],
  worker: { format: "es" },
  build: { target: "es2022", chunkSizeWarningLimit: 2048 },
  server: { host: "127.0.0.1", port: 5173, strictPort: true },
  preview: { host: "127.0.0.1", port: 4173, strictPort: true },
});
