import { defineConfig } from "vite";
import { svelte } from "@sveltejs/vite-plugin-svelte";

// Fixed ports: IndexedDB is per origin, so tests and demos need a stable one.
export default defineConfig({
  // Relative base: the build works from any path (a GitHub Pages project page, a course's web space).
  base: "./",
  plugins: [svelte()],
  worker: { format: "es" },
  build: { target: "es2022", chunkSizeWarningLimit: 2048 },
  server: { host: "127.0.0.1", port: 5173, strictPort: true },
  preview: { host: "127.0.0.1", port: 4173, strictPort: true },
});
