#!/usr/bin/env node
// Test-boot the guest images in Node with the npm v86 package, exactly as
// public/images/manifest.json describes them, and run the kv demo.
//
//   node scripts/images/boot-node.mjs [--runs N] [--persist] [--verbose]
//        [--images DIR] [--bzimage FILE] [--cmdline STR] [--memory-mb N]
//        [--timeout-ms N] [--dump-disk FILE] [--save-state]
//
// One boot per child process, so each measurement starts from a cold wasm
// instance the way a fresh browser worker does. Prints `boot-to-shell-ms: N`
// (the median when --runs > 1). Exit status 0 only if every boot reached the
// shell and `kv set foo bar` / `kv get foo` printed OK / bar.

import { readFileSync, writeFileSync } from "node:fs";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../..");
let imagesDir = path.join(repo, "public/images");
const v86Dir = path.join(repo, "node_modules/v86/build");
const CURSOR_QUERY = "\x1b[6n";

function parseArgs(argv) {
    const opts = { runs: 1, persist: false, verbose: false, child: false, timeoutMs: 60000 };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        const next = () => {
            if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
            return argv[++i];
        };
        switch (a) {
            case "--runs": opts.runs = Number(next()); break;
            case "--persist": opts.persist = true; break;
            case "--verbose": opts.verbose = true; break;
            case "--images": imagesDir = path.resolve(next()); break;
            case "--bzimage": opts.bzimage = path.resolve(next()); break;
            case "--cmdline": opts.cmdline = next(); break;
            case "--memory-mb": opts.memoryMb = Number(next()); break;
            case "--timeout-ms": opts.timeoutMs = Number(next()); break;
            case "--dump-disk": opts.dumpDisk = path.resolve(next()); break;
            case "--save-state": opts.saveState = true; break;
            case "--child": opts.child = true; break;
            default: throw new Error(`unknown argument ${a}`);
        }
    }
    if (!Number.isInteger(opts.runs) || opts.runs < 1) throw new Error("--runs must be a positive integer");
    return opts;
}

function toArrayBuffer(buf) {
    return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
}

function loadImages(opts) {
    const manifest = JSON.parse(readFileSync(path.join(imagesDir, "manifest.json"), "utf8"));
    const file = (name) => toArrayBuffer(readFileSync(path.join(imagesDir, name)));
    const disk = manifest.disk.file
        ? file(manifest.disk.file)
        : new ArrayBuffer(manifest.disk.size_bytes);
    if (disk.byteLength !== manifest.disk.size_bytes) {
        throw new Error(`disk is ${disk.byteLength} bytes, manifest says ${manifest.disk.size_bytes}`);
    }
    return {
        manifest,
        bios: file(manifest.bios),
        vgaBios: file(manifest.vga_bios),
        bzimage: opts.bzimage ? toArrayBuffer(readFileSync(opts.bzimage)) : file(manifest.bzimage),
        initrd: file(manifest.initrd),
        cmdline: opts.cmdline ?? manifest.cmdline,
        memoryMb: opts.memoryMb ?? manifest.memory_mb,
        disk,
    };
}

// Boots once and runs `steps`: each step sends a line once `waitFor` has
// appeared in the output that followed the previous step, then waits for
// `expect`. Resolves with timings; rejects with the serial transcript on
// timeout or mismatch.
async function bootOnce(V86, img, steps, opts) {
    const t0 = performance.now();
    const emulator = new V86({
        wasm_path: path.join(v86Dir, "v86.wasm"),
        bios: { buffer: img.bios },
        vga_bios: { buffer: img.vgaBios },
        bzimage: { buffer: img.bzimage },
        initrd: { buffer: img.initrd },
        cmdline: img.cmdline,
        memory_size: img.memoryMb * 1024 * 1024,
        hda: { buffer: img.disk },
        autostart: true,
        disable_keyboard: true,
        disable_mouse: true,
        disable_speaker: true,
    });

    // Guest instructions executed: a measure of boot work that, unlike wall
    // time, does not depend on how busy the host is. v86's counter is 32 bits
    // and wraps every few seconds, so it is sampled well within that period.
    let instrLast = 0;
    let instrTotal = 0;
    const sampleInstructions = () => {
        const now = emulator.get_instruction_counter();
        instrTotal += (now - instrLast) >>> 0;
        instrLast = now;
        return instrTotal;
    };
    const sampler = setInterval(sampleInstructions, 250);

    const prompt = img.manifest.prompt;
    const readyLine = img.manifest.ready_line;
    let out = "";
    let cursor = 0; // start of the output not yet consumed by a step
    const times = {};

    try {
        await new Promise((resolve, reject) => {
            const timer = setTimeout(
                () => reject(new Error(`timeout after ${opts.timeoutMs} ms`)),
                opts.timeoutMs,
            );
            let phase = "ready";
            let step = 0;
            const done = (err) => {
                clearTimeout(timer);
                phase = "done";
                err ? reject(err) : resolve();
            };
            // Consumes as much of the output as the current state allows.
            const advance = () => {
                for (;;) {
                    if (phase === "ready") {
                        const i = out.indexOf(readyLine + "\r\n", cursor);
                        if (i < 0) return;
                        times.readyMs = performance.now() - t0;
                        cursor = i + readyLine.length + 2;
                        phase = "prompt";
                    } else if (phase === "prompt") {
                        const i = out.indexOf(prompt, cursor);
                        if (i < 0) return;
                        if (times.shellMs === undefined) {
                            times.shellMs = performance.now() - t0;
                            times.shellInstructions = sampleInstructions();
                        }
                        cursor = i + prompt.length;
                        if (step === steps.length) return done();
                        emulator.serial0_send(steps[step].send + "\n");
                        phase = "reply";
                    } else if (phase === "reply") {
                        // The reply is complete when the next prompt arrives;
                        // that prompt is left for the "prompt" state.
                        const i = out.indexOf(prompt, cursor);
                        if (i < 0) return;
                        const reply = out.slice(cursor, i);
                        // The tty echoes the command (CR LF), then the output.
                        const want = `${steps[step].send}\r\n${steps[step].expect}\r\n`;
                        if (reply !== want) {
                            return done(new Error(`step ${JSON.stringify(steps[step].send)}: ` +
                                `got ${JSON.stringify(reply)}, want ${JSON.stringify(want)}`));
                        }
                        cursor = i;
                        step++;
                        phase = "prompt";
                    } else {
                        return;
                    }
                }
            };
            emulator.add_listener("serial0-output-byte", (byte) => {
                const ch = String.fromCharCode(byte);
                out += ch;
                if (opts.verbose) process.stderr.write(ch);
                // busybox ash's line editor asks the terminal for the cursor
                // position (ESC [ 6 n) after each prompt; a terminal answers
                // it invisibly. This harness is no terminal: drop the query.
                if (out.endsWith(CURSOR_QUERY)) {
                    out = out.slice(0, -CURSOR_QUERY.length);
                    times.cursorQueries = (times.cursorQueries ?? 0) + 1;
                }
                advance();
            });
        });
        if (opts.saveState) times.stateBytes = (await emulator.save_state()).byteLength;
    } catch (err) {
        err.message += `\n--- serial transcript (last 3000 chars) ---\n${out.slice(-3000)}`;
        throw err;
    } finally {
        clearInterval(sampler);
        emulator.destroy();
    }
    return times;
}

async function child(opts) {
    const { default: V86 } = await import(path.join(v86Dir, "libv86.mjs"));
    const img = loadImages(opts);
    const first = await bootOnce(V86, img, [
        { send: "kv set foo bar", expect: "OK" },
        { send: "kv get foo", expect: "bar" },
    ], opts);
    const result = {
        readyMs: Math.round(first.readyMs),
        shellMs: Math.round(first.shellMs),
        shellMinstr: Math.round(first.shellInstructions / 1e6),
        stateBytes: first.stateBytes,
    };
    if (opts.dumpDisk) writeFileSync(opts.dumpDisk, new Uint8Array(img.disk));
    if (opts.persist) {
        // Same disk buffer, fresh VM: the value must have reached the disk
        // and init must mount (not reformat) the existing filesystem.
        const second = await bootOnce(V86, img, [
            { send: "kv get foo", expect: "bar" },
            { send: "kv list", expect: "foo=bar" },
        ], opts);
        result.persistShellMs = Math.round(second.shellMs);
    }
    process.stdout.write(JSON.stringify(result) + "\n");
    // v86 leaves timers behind after destroy(); nothing else is pending.
    process.exit(0);
}

function runChild(args) {
    return new Promise((resolve, reject) => {
        const p = spawn(process.execPath, [fileURLToPath(import.meta.url), "--child", ...args], {
            stdio: ["ignore", "pipe", "inherit"],
        });
        let stdout = "";
        p.stdout.on("data", (d) => { stdout += d; });
        p.on("error", reject);
        p.on("exit", (code) => {
            if (code !== 0) return reject(new Error(`boot failed (exit ${code})`));
            resolve(JSON.parse(stdout.trim().split("\n").pop()));
        });
    });
}

function median(xs) {
    const s = [...xs].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 ? s[m] : Math.round((s[m - 1] + s[m]) / 2);
}

async function main() {
    const argv = process.argv.slice(2);
    const opts = parseArgs(argv);
    if (opts.child) return child(opts);
    const childArgs = argv.filter((a, i) => a !== "--runs" && argv[i - 1] !== "--runs");
    const results = [];
    for (let i = 0; i < opts.runs; i++) {
        const r = await runChild(childArgs);
        results.push(r);
        console.log(`run ${i + 1}/${opts.runs}: ready ${r.readyMs} ms, shell ${r.shellMs} ms, ` +
            `${r.shellMinstr} M guest instructions to the prompt` +
            (r.persistShellMs !== undefined ? `, reboot with same disk: shell ${r.persistShellMs} ms, kv get foo = bar` : "") +
            (r.stateBytes !== undefined ? `, save_state ${r.stateBytes} bytes` : "") +
            ", kv set/get OK");
    }
    console.log(`boot-to-shell-minstr: ${median(results.map((r) => r.shellMinstr))}`);
    console.log(`boot-to-shell-ms: ${median(results.map((r) => r.shellMs))}`);
}

main().catch((err) => {
    console.error(err.message);
    process.exit(1);
});
