import type { SimNode } from "./sim-node.ts";
import { blockValue } from "./toy-vm.ts";
import { LIVENESS_BOUND_MS, REDUNDANCY_BOUND_MS, type World } from "./world.ts";

/**
 * The invariants checked at the end of a run, on the surviving live primary (if a VM survived:
 * a double failure may lose it, and then only safety is checked):
 * 2. the Output Requirement on the console stream: what the client holds is a prefix of the
 *    surviving VM's history, and every input the client was told arrived was consumed, once;
 * 3. disk consistency: every write whose completion the surviving guest saw is on its disk;
 * 4. liveness: service resumed within the bound after the faults healed, and keeps serving;
 * 5. redundancy (paper 3.1): a primary alone while a standby waits is cloned into it, in time.
 */
export function finalChecks(w: World, vmSurvives: boolean): void {
  const c = w.client;
  w.stats.clientBytes = c.length;
  w.stats.inputsAcked = c.inputAcked;
  if (!vmSurvives) return;
  const s = w.livePrimary();
  const vm = s?.engine?.vm;
  if (!s || !vm) return w.violation("no surviving live primary at the end of the run");
  const got = new TextDecoder().decode(c.stream());
  if (!vm.console.startsWith(got)) {
    let i = 0;
    while (i < got.length && got[i] === vm.console[i]) i++;
    w.violation(
      `client console is not a prefix of the surviving history (${s.id}): differs at offset ${i}: client ${JSON.stringify(got.slice(i, i + 24))} vs VM ${JSON.stringify(vm.console.slice(i, i + 24))}`,
    );
  }
  if (vm.inputViolations > 0) w.violation(`surviving VM consumed client input out of order or twice (${vm.inputViolations})`);
  if (vm.nextInputSeq < c.inputAcked) w.violation(`client was told inputs 0..${c.inputAcked - 1} arrived, surviving VM consumed only 0..${vm.nextInputSeq - 1}`);
  if (vm.readMismatches > 0) w.violation(`surviving VM read data contradicting its own completed writes (${vm.readMismatches})`);
  if (vm.strayCompletions > 0) w.violation(`surviving VM got completions for I/O it never issued (${vm.strayCompletions})`);
  for (const [block, value] of vm.view) {
    if (vm.busy(block)) continue;
    const data = w.sc.diskMode === "shared" ? w.storage.store.blocks.get(block) : s.ownDisk.get(block);
    if (blockValue(data) !== value) w.violation(`block ${block}: surviving guest saw its write of ${value} complete, disk holds ${blockValue(data)}`);
  }
  if (c.length <= w.clientLenAtBound) {
    w.violation(`client console made no progress after healing + ${LIVENESS_BOUND_MS}ms (stuck at ${c.length}, last progress @${w.clientProgressAt.toFixed(1)}ms)`);
  }
  if (c.unackedInputs > 0) w.violation(`${c.unackedInputs} client inputs never acknowledged`);
  if (w.packets) packets(w, s.id, vm.sent);
  redundancy(w, s);
}

/**
 * The Output Requirement on the network: every reply the client got is one the surviving VM's
 * history sent (a reply from a history that died with a primary has another state in it), and
 * replies still flowed after the faults healed. Duplicates are allowed (paper 3.4).
 */
function packets(w: World, id: string, sent: readonly string[]): void {
  const p = w.packets!;
  w.stats.packetReplies = p.replies.size;
  const history = new Set(sent);
  const foreign = [...p.replies].filter((r) => !history.has(r));
  if (foreign.length > 0) w.violation(`client received ${foreign.length} packet(s) the surviving history (${id}) never sent, e.g. ${foreign[0]}`);
  if (p.replies.size <= p.repliesAtBound) w.violation(`no packet replies after healing + ${LIVENESS_BOUND_MS}ms (last @${p.lastReplyAt.toFixed(1)}ms)`);
}

/** The cluster service restores redundancy: no primary runs alone for long while a standby has waited as long. */
function redundancy(w: World, s: SimNode): void {
  const since = w.sc.endAt - REDUNDANCY_BOUND_MS;
  if (s.host.agent?.primary?.state !== "alone" || s.stateSince > since) return;
  const standby = [...w.byName.values()].find((n) => n.alive && !n.halted && n.host.agent?.role === "standby" && n.stateSince <= since);
  if (standby) w.violation(`redundancy not restored: ${s.id} runs alone since @${s.stateSince.toFixed(1)}ms while ${standby.id} waits as a standby since @${standby.stateSince.toFixed(1)}ms`);
}
