import { mount } from "svelte";
import App from "./ui/App.svelte";
import "./ui/global.css";

const target = document.getElementById("app");
if (!target) throw new Error("index.html has no #app element");

// ?mode=engine-pair: the deterministic engine alone, record in one worker and replay in another
// (no protocol, no UI): the browser counterpart of `npm run replay-check`, driven by tests.
if (new URLSearchParams(location.search).get("mode") === "engine-pair") {
  const { runLockstepPair } = await import("./engine/browser/pair.ts");
  (window as unknown as { runLockstepPair: typeof runLockstepPair }).runLockstepPair = runLockstepPair;
  target.textContent = "Engine pair harness: call runLockstepPair() from the console.";
} else {
  mount(App, { target });
}
