import { makeScenario } from '../src/sim/scenario.ts';
import { World } from '../src/sim/world.ts';
const seed = Number(process.argv[2]);
const w = new World(makeScenario(seed), {}, true);
await w.run();
for (const n of w.byName.values()) {
  const a = n.host.agent; const p = a?.primary; const b = a?.backup;
  console.log(n.id, n.alive, a?.status(), 'engine', n.engine?.mode, n.engine?.vm.frame, 'backlog', n.engine?.backlog,
    p ? `unacked ${p.unackedLogBytes} held ${p.heldOutputs} backup ${p.backup} cloning ${p.cloning}` : '',
    b ? `recv ${b.receivedSeq} backlogFrames ${b.backlogFrames} replayed ${b.replayedThrough.frame} delivered ${b.deliveredThrough.frame}` : '');
}
console.log(w.violations);
for (const n of w.byName.values()) {
  const h = n.host as unknown as { loop: Record<string, unknown>; replay: Record<string, unknown>; stopped: boolean };
  console.log(n.id, 'stopped', h.stopped, 'loop', { waiting: h.loop.waiting, timer: !!h.loop.timer, flow: h.loop.flowPaused, vm: h.loop.vmPaused }, 'thread now', n.thread.now(), 'restoring', h.replay?.restoring);
}
const bp = w.byName.get('B')!.host.agent!.primary as unknown as Record<string, any>;
console.log('B sender', bp.sender.ackedThrough, bp.sender.unackedBytes, 'rule', bp.rule.ackedThrough, bp.rule.replayedThrough, bp.rule.held.slice(0, 3).map((h: any) => [h.position, h.needsReplay, h.output.kind]), 'flow', bp.flow, 'ackCloneId', bp.ackCloneId, 'lag', bp.lag.speed);
const ab = w.byName.get('A')!.host.agent!.backup as unknown as Record<string, any>;
console.log('A ready', ab.ready.length, ab.ready[0]?.completes, 'readData', [...ab.readData.keys()], 'inflight', [...ab.readsInFlight], 'io', ab.io.list().map((i: any) => [i.ioId, i.kind, i.block]));
const ep = (id: string) => ((w.byName.get(id)!.host as any).link.endpoint);
const ea = ep('A'), eb = ep('B');
console.log('A ep peer', ea.peer, 'closed', ea.closed, 'chan closed', ea.channel.closed, 'B ep peer', eb.peer, eb.closed, eb.channel.closed, 'same pair', ea.channel.peer === eb.channel, 'A bytesIn', ea.bytesIn, 'B bytesIn', eb.bytesIn, 'B bytesOut', eb.bytesOut, 'A bytesOut', ea.bytesOut);
