// One v86 instance, wired for determinism. The engine (engine.ts) owns the policy; this file
// owns the v86 plumbing:
//   - instantiates v86's wasm itself (V86 `wasm_fn`), wrapping three imports:
//       microtick        -> the engine's virtual clock,
//       get_rand_int     -> the engine (RDRAND: recorded or replayed),
//       codegen_finalize -> synchronous JIT compile; the install (table.set +
//                           codegen_finalize_finished) is queued for the next frame boundary;
//     and one more, run_hardware_timers, to cut a frame short (see CUT below);
//   - never starts v86's scheduler (autostart: false); the engine calls `main_loop` itself;
//   - gives the IDE controller a disk adapter (disk-adapter.ts) whose requests go to the engine;
//   - save/restore with fix-ups for what v86's restore loses (machine-state.ts).
// Nothing here uses DOM or Node APIs.

import { frozenClock, installTimeShim, setFallbackClock, withClock, type TimeSource } from "./clock.ts";
import { DiskAdapter } from "./disk-adapter.ts";
import { hashWords } from "./hash.ts";
import { withoutNestedWorkers } from "./inert-worker.ts";
import {
  captureExtra,
  CPU_REGION_END,
  CPU_REGION_START,
  CPU_VOLATILE,
  IN_HLT,
  INSTRUCTION_COUNTER,
  keepCpuViews,
  repairAfterRestore,
  type MachineExtra,
} from "./machine-state.ts";

/** Guest boot files and shape. Buffers are only read, never transferred. */
export interface GuestImages {
  bios: ArrayBuffer;
  vgaBios: ArrayBuffer;
  bzImage: ArrayBuffer;
  initrd: ArrayBuffer;
  cmdline: string;
  memoryMb: number;
  /** Size of the data disk in bytes (attached as IDE master), 0 for none. */
  diskSize: number;
}

export interface MachineHooks {
  rdrand(): number;
  serialOut(byte: number): void;
  /** The NIC transmitted a packet; `view` aliases the card's send buffer (copy it at once). */
  netSend(view: Uint8Array): void;
  diskRead(start: number, length: number, done: (data: Uint8Array) => void): void;
  diskWrite(start: number, data: Uint8Array, done: () => void): void;
}

interface PendingInstall {
  index: number;
  start: number;
  flags: number;
  fn: unknown;
}

const WASM_TABLE_OFFSET = 1024;

/**
 * Thrown out of v86's wasm to end a frame early. v86's main loop runs instruction chunks
 * (do_many_cycles) and after each one calls the imported run_hardware_timers and then checks
 * whether 1 ms of (virtual) time has passed: ~1M instructions, which v86's interpreter needs
 * seconds for on a loaded machine, with the host unable to heartbeat meanwhile. Throwing from
 * run_hardware_timers leaves the machine between two chunks, every instruction complete; the
 * timers it skipped run at the next main_loop call. Both sides cut at the same instruction count
 * (the recorder logs a `cut` entry), so the replay is unchanged.
 */
const CUT = Symbol("lockstep frame cut");

type Any = any;

let v86Ctor: Promise<Any> | null = null;

/** Imports libv86 after installing the time shim (it binds performance.now at evaluation). */
export function loadV86(): Promise<Any> {
  if (!v86Ctor) {
    installTimeShim();
    v86Ctor = import("v86").then((m: Any) => m.V86 ?? m.default);
  }
  return v86Ctor;
}

let creationChain: Promise<unknown> = Promise.resolve();

/** Seeded PRNG used as Math.random while v86 constructs (ne2k picks its MAC with it). */
function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 0x1_0000_0000;
  };
}

export class Machine {
  readonly emulator: Any;
  readonly cpu: Any;
  readonly exports: Any;
  readonly memory: WebAssembly.Memory;
  private readonly table: WebAssembly.Table;
  private jitImports: Record<string, unknown> | null = null;
  private pending: PendingInstall[] = [];
  private u32: Uint32Array;
  private u8: Uint8Array;
  compiles = 0;
  destroyed = false;

  private constructor(emulator: Any, exports: Any, table: WebAssembly.Table, private readonly hooks: { current: MachineHooks }) {
    this.emulator = emulator;
    this.exports = exports;
    this.cpu = emulator.v86.cpu;
    this.memory = exports.memory as WebAssembly.Memory;
    this.table = table;
    this.u32 = new Uint32Array(this.memory.buffer);
    this.u8 = new Uint8Array(this.memory.buffer);
  }

  /**
   * Builds a machine. Construction is serialised process-wide: during it, v86 code that runs
   * outside the engine (its async init) sees a frozen virtual clock at `clockMs` and a seeded
   * Math.random, so that two constructions with the same inputs produce the same machine, and
   * an inert `Worker` (no nested worker for v86's unused scheduler: inert-worker.ts).
   */
  static create(
    wasm: WebAssembly.Module,
    images: GuestImages,
    opts: { jit: boolean; clockMs: number; epochMs: number },
    hooks: { current: MachineHooks },
  ): Promise<Machine> {
    const run = async (): Promise<Machine> => {
      const V86 = await loadV86();
      const clock = frozenClock(opts.clockMs, opts.epochMs);
      const unsetClock = setFallbackClock(clock);
      const realRandom = Math.random;
      Math.random = seededRandom(0x10c5);
      // v86's constructor would start a nested Worker for a scheduler the engine never runs, and
      // in Firefox that constructor sometimes never returns (issue 17): inert-worker.ts.
      const restoreWorker = withoutNestedWorkers();
      try {
        return await Machine.construct(V86, wasm, images, opts, hooks);
      } finally {
        restoreWorker();
        Math.random = realRandom;
        unsetClock();
      }
    };
    const p = creationChain.then(run, run);
    creationChain = p.catch(() => undefined);
    return p;
  }

  private static construct(
    V86: Any,
    wasm: WebAssembly.Module,
    images: GuestImages,
    opts: { jit: boolean },
    hooks: { current: MachineHooks },
  ): Promise<Machine> {
    return new Promise<Machine>((resolve, reject) => {
      // Set on "emulator-loaded", before any guest code runs (and so before any JIT compile).
      let machine: Machine | null = null;
      let exportsRef: Any = null;
      let tableRef: WebAssembly.Table | null = null;
      const wasm_fn = async (env: { env: Record<string, Any> }) => {
        const e = { ...env.env };
        tableRef = e.__indirect_function_table as WebAssembly.Table;
        // microtick: v86's own binding of performance.now is already shimmed; make the wasm
        // import go through the same shim so both agree.
        e.microtick = () => performance.now();
        e.get_rand_int = () => hooks.current.rdrand();
        e.codegen_finalize = (index: number, start: number, flags: number, ptr: number, len: number) => {
          machine!.compile(index, start, flags, ptr, len);
        };
        const timers = e.run_hardware_timers as (acpi: unknown, now: number) => number;
        e.run_hardware_timers = (acpi: unknown, now: number) => {
          if (machine?.shouldCut?.()) throw CUT;
          return timers(acpi, now);
        };
        const instance = new WebAssembly.Instance(wasm, { env: e });
        exportsRef = instance.exports;
        return instance.exports;
      };
      const disk = images.diskSize > 0 ? new DiskAdapter(images.diskSize, hooks) : undefined;
      let emulator: Any;
      try {
        emulator = new V86({
          wasm_fn,
          bios: { buffer: images.bios },
          vga_bios: { buffer: images.vgaBios },
          bzimage: { buffer: images.bzImage },
          initrd: { buffer: images.initrd },
          cmdline: images.cmdline,
          memory_size: images.memoryMb * 1024 * 1024,
          vga_memory_size: 2 * 1024 * 1024,
          hda: disk,
          autostart: false,
          disable_keyboard: true,
          disable_mouse: true,
          disable_speaker: true,
          disable_jit: !opts.jit,
          serial_console: { type: "none" },
          // v86 always has an NE2000 (its MAC comes from the seeded Math.random above, so
          // every machine of a session has the same one). Its restore keeps the MAC and the
          // card's 32 KiB packet memory (receive ring, send buffer) only with this flag: a
          // clone taken with packets in the ring would otherwise hand the guest zeros.
          net_device: { type: "ne2k" },
          preserve_mac_from_state_image: true,
          mac_address_translation: false,
          screen: {},
        });
      } catch (err) {
        reject(err);
        return;
      }
      emulator.add_listener("emulator-loaded", () => {
        try {
          machine = new Machine(emulator, exportsRef, tableRef!, hooks);
          machine.jitImports = machine.buildJitImports();
          emulator.add_listener("serial0-output-byte", (b: number) => hooks.current.serialOut(b));
          emulator.add_listener("net0-send", (view: Uint8Array) => hooks.current.netSend(view));
          resolve(machine);
        } catch (err) {
          reject(err);
        }
      });
    });
  }

  private buildJitImports(): Record<string, unknown> {
    const imports: Record<string, unknown> = Object.create(null);
    imports.m = this.memory;
    for (const name of Object.keys(this.exports)) {
      if (name.startsWith("_") || name.startsWith("zstd") || name.endsWith("_js")) continue;
      imports[name] = this.exports[name];
    }
    return imports;
  }

  private compile(index: number, start: number, flags: number, ptr: number, len: number): void {
    const code = new Uint8Array(this.memory.buffer, ptr >>> 0, len >>> 0);
    const module = new WebAssembly.Module(code);
    const instance = new WebAssembly.Instance(module, { e: this.jitImports! as WebAssembly.ModuleImports });
    this.pending.push({ index, start, flags, fn: instance.exports.f });
    this.compiles++;
  }

  /** Installs JIT code compiled during the last frame; returns the table indices, in order. */
  installPendingJit(): number[] {
    if (this.pending.length === 0) return [];
    const done: number[] = [];
    const list = this.pending;
    this.pending = [];
    for (const p of list) {
      this.table.set(p.index + WASM_TABLE_OFFSET, p.fn as Any);
      this.exports.codegen_finalize_finished(p.index, p.start, p.flags);
      done.push(p.index);
    }
    return done;
  }

  get pendingJitCount(): number {
    return this.pending.length;
  }

  /** Drops compiled-but-not-installed code (clone: the fresh instance's JIT starts cold). */
  dropPendingJit(): void {
    this.pending = [];
  }

  private refreshViews(): void {
    // memory.grow() detaches the old ArrayBuffer, which zeroes the views' length: cheaper to
    // test than the memory.buffer getter (this runs on every virtual clock read).
    if (this.u32.length === 0) {
      this.u32 = new Uint32Array(this.memory.buffer);
      this.u8 = new Uint8Array(this.memory.buffer);
    }
  }

  /** The wasm's 32-bit instruction counter. */
  counter(): number {
    this.refreshViews();
    return this.u32[INSTRUCTION_COUNTER >>> 2];
  }

  inHlt(): boolean {
    this.refreshViews();
    return this.u8[IN_HLT] !== 0;
  }

  /** Asked after every instruction chunk of a frame: end the frame here (true)? */
  private shouldCut: (() => boolean) | null = null;

  /**
   * Runs one frame of v86's main loop; `t`: ms until the next timer when halted, else 0. With
   * `cut`, the frame ends early after the first instruction chunk at which it returns true
   * (`cut: true`, `t` 0: the timers v86 would have run now run at the next frame).
   */
  mainLoop(clock: TimeSource, cut: (() => boolean) | null = null): { t: number; cut: boolean } {
    this.shouldCut = cut;
    try {
      return { t: withClock(clock, () => this.exports.main_loop() as number), cut: false };
    } catch (e) {
      if (e === CUT) return { t: 0, cut: true };
      throw e;
    } finally {
      this.shouldCut = null;
    }
  }

  serialInput(bytes: Uint8Array, clock: TimeSource): void {
    withClock(clock, () => this.emulator.serial_send_bytes(0, bytes));
  }

  /** A received Ethernet frame into the NIC (synchronous: the card copies it into its ring). */
  netReceive(frame: Uint8Array, clock: TimeSource): void {
    withClock(clock, () => this.emulator.bus.send("net0-receive", frame));
  }

  /** The NIC's MAC address (fixed per session: see the seeded Math.random in create()). */
  mac(): Uint8Array {
    return Uint8Array.from(this.cpu.devices.net.mac as Uint8Array);
  }

  /** Runs fn (a device callback into v86) under the engine's clock. */
  call<T>(clock: TimeSource, fn: () => T): T {
    return withClock(clock, fn);
  }

  private mem8(): Uint8Array {
    return this.cpu.mem8 as Uint8Array;
  }

  /** Guest RAM (v86's mem8), a view into wasm memory: read it only at a frame boundary. */
  ramView(): Uint8Array {
    return this.mem8();
  }

  get ramBytes(): number {
    return this.mem8().length;
  }

  cpuHash(): number {
    this.refreshViews();
    const region = this.u8.slice(CPU_REGION_START, CPU_REGION_END);
    for (const [a, b] of CPU_VOLATILE) region.fill(0, a - CPU_REGION_START, b - CPU_REGION_START);
    return hashWords(new Int32Array(region.buffer));
  }

  /** Hash of RAM [offset, offset + length) (4-byte aligned). */
  ramHash(offset = 0, length = this.ramBytes): number {
    const m = this.mem8();
    const end = Math.min(m.length, offset + length);
    if (offset >= end) return 0;
    return hashWords(new Int32Array(m.buffer, m.byteOffset + offset, (end - offset) >>> 2));
  }

  /** Test hook: XORs one RAM byte (invalidating JIT code for that page, as a guest write would). */
  pokeRam(offset: number, xor: number): void {
    const m = this.mem8();
    m[offset] ^= xor;
    this.cpu.jit_dirty_cache?.(offset, offset + 1);
  }

  /** v86's save_state plus what it misses. Call at a frame boundary only. */
  save(clock: TimeSource): { state: ArrayBuffer; extra: MachineExtra } {
    this.refreshViews();
    const extra = captureExtra(this.cpu, this.u8);
    const state = withClock(clock, () => this.emulator.v86.save_state() as ArrayBuffer);
    return { state, extra };
  }

  /**
   * Restores a snapshot into this (fresh) machine and applies the fix-ups (machine-state.ts).
   * Returns the CPU-region offsets that v86's restore got wrong (they were repaired).
   */
  restore(state: ArrayBuffer, extra: MachineExtra, clock: TimeSource): number[] {
    const views = keepCpuViews(this.cpu);
    withClock(clock, () => this.emulator.v86.restore_state(state));
    this.refreshViews();
    const repaired = repairAfterRestore(this.cpu, this.u8, views, extra);
    this.pending = [];
    return repaired;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    try {
      this.emulator.destroy();
    } catch {
      // v86's destroy touches adapters we never created; nothing else to release.
    }
  }
}
