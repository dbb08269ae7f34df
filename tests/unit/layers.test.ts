import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

// The layers of src/ and what each may import (README "Layout"). Arrows point down only:
// ui → cluster → host → engine → ft; storage and channel serve host and cluster; workers are
// thin entry points over everything below the UI; the simulator (sim) runs cluster, host and core in Node.
const src = resolve(__dirname, "../../src");
const allowed: Record<string, string[]> = {
  ft: [],
  engine: ["ft"],
  storage: ["ft"],
  channel: ["ft"],
  net: ["ft"],
  host: ["ft", "engine", "storage", "channel", "net"],
  cluster: ["ft", "host", "storage", "channel", "net"],
  // The simulator drives the real host and the real cluster service on a toy engine.
  sim: ["ft", "engine", "storage", "channel", "net", "host", "cluster"],
  workers: ["ft", "engine", "storage", "channel", "net", "host", "cluster"],
  ui: ["ft", "engine", "storage", "channel", "net", "host", "cluster"],
};
const belowUi = Object.keys(allowed).filter((l) => l !== "ui");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : /\.(ts|svelte)$/.test(f) ? [p] : [];
  });
}

/** Import specifiers of a file (static, dynamic and type-only), comments stripped. */
function imports(file: string): string[] {
  const text = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  return [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)["']([^"']+)["']/g)].map((m) => m[1]!);
}

const layerOf = (file: string) => relative(src, file).split("/")[0]!;

describe("layer boundaries", () => {
  const all = files(src).filter((f) => layerOf(f) in allowed);

  it("knows every folder under src/", () => {
    const folders = readdirSync(src).filter((f) => statSync(join(src, f)).isDirectory());
    expect(folders.filter((f) => !(f in allowed))).toEqual([]);
    expect(all.length).toBeGreaterThan(100);
  });

  it("nothing imports upward or sideways out of its layer's allowance", () => {
    const bad: string[] = [];
    for (const f of all) {
      const from = layerOf(f);
      for (const spec of imports(f)) {
        if (!spec.startsWith(".")) continue;
        const to = layerOf(resolve(dirname(f), spec));
        if (to !== from && !allowed[from]!.includes(to)) bad.push(`${relative(src, f)} → ${spec}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it("nothing below the UI imports Svelte or touches the DOM", () => {
    const bad: string[] = [];
    for (const f of all.filter((f) => belowUi.includes(layerOf(f)))) {
      if (f.endsWith(".svelte") || f.endsWith(".svelte.ts")) bad.push(relative(src, f));
      const text = readFileSync(f, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
      if (/from\s+["']svelte|(?<![.\w])document\.|(?<![.\w])window\.|(?<![.\w])localStorage\b/.test(text)) bad.push(relative(src, f));
    }
    expect(bad).toEqual([]);
  });

  it("the protocol core imports nothing outside itself, not even packages", () => {
    const bad = all.filter((f) => layerOf(f) === "ft").flatMap((f) => imports(f).filter((s) => !s.startsWith(".")).map((s) => `${relative(src, f)} → ${s}`));
    expect(bad).toEqual([]);
  });
});
