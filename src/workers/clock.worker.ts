/// <reference lib="webworker" />

/**
 * The timers of a tab's cluster service (src/ui/lib/worker-clock.ts): a worker's timers are not
 * throttled in a background tab, where the page's own are (Firefox: at most one a second,
 * measured; Chromium, by its documentation: once a minute after five minutes hidden, for a page
 * without WebRTC in use), and their messages wake the page
 * at once. Messages: {t: "every" | "after", id, ms} starts a timer, {t: "cancel", id} stops it;
 * each firing posts its id.
 */
type ClockMsg = { t: "every" | "after"; id: number; ms: number } | { t: "cancel"; id: number };

const timers = new Map<number, { repeat: boolean; handle: ReturnType<typeof setTimeout> }>();

self.onmessage = (e: MessageEvent<ClockMsg>) => {
  const m = e.data;
  if (m.t === "cancel") {
    const t = timers.get(m.id);
    if (t) (t.repeat ? clearInterval : clearTimeout)(t.handle);
    timers.delete(m.id);
  } else if (m.t === "every") {
    timers.set(m.id, { repeat: true, handle: setInterval(() => postMessage(m.id), m.ms) });
  } else {
    timers.set(m.id, {
      repeat: false,
      handle: setTimeout(() => {
        timers.delete(m.id);
        postMessage(m.id);
      }, m.ms),
    });
  }
};
