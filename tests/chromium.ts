// Debian's Chromium, never a downloaded browser. The flags keep it off the closed network.
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * Options every test context takes. The Figure's tokens animate without end, and compositing them
 * in software took a third of a core (measured: VizCompositorThread 6.0 s of CPU in 17 s of an
 * idle pair) from the VMs under test. With reduced motion every token stays in the DOM, still.
 */
export const TEST_CONTEXT = { reducedMotion: "reduce" } as const;
