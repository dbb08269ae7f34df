import { mount } from "svelte";
import App from "./ui/App.svelte";
import { registerOffline, startNewVersionIfAlone } from "./ui/lib/offline.svelte.ts";
import "./ui/global.css";

const target = document.getElementById("app");
if (!target) throw new Error("index.html has no #app element");

// The service worker exists in builds only (vite-plugin-pwa does not register one in dev).
// A new version downloaded at an earlier visit takes over before anything starts, if this is the
// only Lockstep page: then the page reloads with it.
if (import.meta.env.PROD && (await startNewVersionIfAlone())) {
  target.textContent = "Starting the new version of Lockstep…";
} else if (new URLSearchParams(location.search).get("mode") === "engine-pair") {
  // ?mode=engine-pair: the deterministic engine alone, record in one worker and replay in another
  // (no protocol, no UI): the browser counterpart of `npm run replay-check`, driven by tests.
  const { runLockstepPair } = await import("./engine/browser/pair.ts");
  (window as unknown as { runLockstepPair: typeof runLockstepPair }).runLockstepPair = runLockstepPair;
  target.textContent = "Engine pair harness: call runLockstepPair() from the console.";
} else {
  mount(App, { target });
  if (import.meta.env.PROD) registerOffline();
}
