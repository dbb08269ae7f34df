import { describe, expect, it } from "vitest";
import { parseArgs, type Cli, type Opts } from "../../../scripts/lib/args.ts";

// A script shaped like the real ones: every option type, env knobs with and without zero.
const spec = {
  usage: "npm run demo -- [options]",
  about: "A demo script.",
  options: {
    seeds: { type: "int", min: 1, default: 1000, help: "how many seeds" },
    from: { type: "int", min: 0, default: 1, help: "first seed" },
    seed: { type: "int", min: 0, help: "one seed" },
    "idle-seconds": { type: "float", above: 0, default: 10, help: "idle time" },
    port: { type: "int", min: 1, max: 65535, default: 5191, help: "port" },
    workload: { type: "string", metavar: "FILE", help: "workload file" },
    jit: { type: "enum", values: ["on", "off"], default: "on", help: "the JIT" },
    unsafe: { type: "enums", values: ["no-output-rule", "no-fencing"], help: "switch a safeguard off" },
    quiet: { type: "flag", help: "no trace" },
  },
  env: {
    BENCH_PAIRS: { type: "int", min: 1, default: 3, help: "pairs" },
    BENCH_TABS: { type: "int", min: 0, default: 5, help: "tab runs; 0 skips them" },
  },
} as const satisfies Cli<Opts, Opts>;

const parse = (argv: string[], env: Record<string, string> = {}) => parseArgs(spec, argv, env);
const ok = (argv: string[], env: Record<string, string> = {}) => {
  const r = parse(argv, env);
  if (r.kind !== "ok") throw new Error(`expected ok, got ${JSON.stringify(r)}`);
  return r;
};
const error = (argv: string[], env: Record<string, string> = {}) => {
  const r = parse(argv, env);
  if (r.kind !== "error") throw new Error(`expected an error, got ${JSON.stringify(r)}`);
  return r.message;
};

describe("script arguments", () => {
  it("gives every default when nothing is passed", () => {
    const r = ok([]);
    expect(r.options).toEqual({
      seeds: 1000, from: 1, seed: undefined, "idle-seconds": 10, port: 5191, workload: undefined, jit: "on", unsafe: [], quiet: false,
    });
    expect(r.env).toEqual({ BENCH_PAIRS: 3, BENCH_TABS: 5 });
  });

  it("reads `--name value` and `--name=value`, flags, lists and a bare `--`", () => {
    const r = ok(["--seeds", "500", "--from=7", "--", "--quiet", "--jit", "off", "--unsafe", "no-fencing,no-output-rule", "--idle-seconds", "2.5", "--workload", "w.txt"]);
    expect(r.options).toMatchObject({ seeds: 500, from: 7, quiet: true, jit: "off", unsafe: ["no-fencing", "no-output-rule"], "idle-seconds": 2.5, workload: "w.txt" });
  });

  it("rejects unknown options, naming the known ones", () => {
    expect(error(["--sedes", "5"])).toMatch(/unknown option --sedes: options are --seeds, --from, .*--quiet, --help/);
    expect(error(["--seeds=5", "--verbose"])).toMatch(/unknown option --verbose/);
  });

  it("rejects stray words and single-dash options", () => {
    expect(error(["500"])).toMatch(/unexpected argument "500"/);
    expect(error(["-q"])).toMatch(/unexpected argument "-q"/);
  });

  it("rejects malformed numbers with what is allowed", () => {
    expect(error(["--seeds", "abc"])).toBe('--seeds: "abc" is not allowed: expected an integer ≥ 1');
    expect(error(["--seeds", "1.5"])).toMatch(/--seeds: "1.5" is not allowed: expected an integer/);
    expect(error(["--seeds", "1e3"])).toMatch(/--seeds: "1e3"/);
    expect(error(["--seeds", "0x10"])).toMatch(/--seeds: "0x10"/);
    expect(error(["--seeds", "99999999999999999999"])).toMatch(/--seeds/);
    expect(error(["--idle-seconds", "fast"])).toBe('--idle-seconds: "fast" is not allowed: expected a number > 0');
    expect(error(["--idle-seconds", "Infinity"])).toMatch(/--idle-seconds/);
  });

  it("rejects numbers out of range, including negative ones given as the next word", () => {
    expect(error(["--seeds", "-1"])).toBe('--seeds: "-1" is not allowed: expected an integer ≥ 1');
    expect(error(["--seeds", "0"])).toMatch(/--seeds: "0"/);
    expect(error(["--idle-seconds", "0"])).toMatch(/expected a number > 0/);
    expect(error(["--port", "70000"])).toBe('--port: "70000" is not allowed: expected an integer from 1 to 65535');
  });

  it("rejects values outside an enum or a list", () => {
    expect(error(["--jit", "maybe"])).toBe('--jit: "maybe" is not allowed: expected one of on, off');
    expect(error(["--unsafe", "no-fencing,no-brakes"])).toMatch(/--unsafe: "no-fencing,no-brakes" is not allowed: expected a comma-separated list of no-output-rule, no-fencing/);
    expect(error(["--unsafe", "no-fencing,"])).toMatch(/--unsafe/);
  });

  it("rejects a missing value instead of running the default", () => {
    expect(error(["--seeds"])).toBe("--seeds needs a value: expected an integer ≥ 1");
    expect(error(["--seeds", "--quiet"])).toMatch(/--seeds needs a value/);
    expect(error(["--workload="])).toBe("--workload needs a value: expected a non-empty value");
    expect(error(["--jit"])).toMatch(/--jit needs a value: expected one of on, off/);
  });

  it("rejects a value given to a flag, and an option given twice", () => {
    expect(error(["--quiet=yes"])).toMatch(/--quiet is a switch and takes no value/);
    expect(error(["--seeds", "5", "--seeds", "6"])).toBe("--seeds is given twice");
  });

  it("validates environment knobs the same way", () => {
    expect(ok([], { BENCH_PAIRS: "7", BENCH_TABS: "0" }).env).toEqual({ BENCH_PAIRS: 7, BENCH_TABS: 0 });
    expect(error([], { BENCH_PAIRS: "three" })).toBe('BENCH_PAIRS: "three" is not allowed: expected an integer ≥ 1');
    expect(error([], { BENCH_PAIRS: "0" })).toMatch(/BENCH_PAIRS: "0"/);
    expect(error([], { BENCH_TABS: "-1" })).toMatch(/BENCH_TABS: "-1" is not allowed: expected an integer ≥ 0/);
    expect(error([], { BENCH_TABS: "" })).toMatch(/BENCH_TABS is set but empty/);
  });

  it("ignores environment variables it does not declare", () => {
    expect(ok([], { PATH: "/bin", BENCH_OTHER: "x" }).env).toEqual({ BENCH_PAIRS: 3, BENCH_TABS: 5 });
  });

  it("prints every option, its range and default, and the env knobs for --help, even beside errors", () => {
    for (const argv of [["--help"], ["-h"], ["--seeds", "abc", "--help"]]) {
      const r = parse(argv);
      if (r.kind !== "help") throw new Error(`expected help for ${argv.join(" ")}`);
      expect(r.text).toContain("usage: npm run demo -- [options]");
      expect(r.text).toContain("A demo script.");
      expect(r.text).toMatch(/--seeds N +how many seeds \(an integer ≥ 1; default 1000\)/);
      expect(r.text).toMatch(/--workload FILE +workload file\n/);
      expect(r.text).toMatch(/--jit on\|off +the JIT \(default on\)/);
      expect(r.text).toMatch(/--unsafe LIST +switch a safeguard off \(a comma-separated list of no-output-rule, no-fencing\)/);
      expect(r.text).toMatch(/--quiet +no trace/);
      expect(r.text).toMatch(/--help +print this help/);
      expect(r.text).toMatch(/environment:\n +BENCH_PAIRS=N +pairs \(an integer ≥ 1; default 3\)/);
    }
  });

  it("types the values after the declaration", () => {
    const r = ok(["--seed", "3"]);
    const seeds: number = r.options.seeds; // has a default: always a number
    const seed: number | undefined = r.options.seed;
    const jit: "on" | "off" = r.options.jit;
    const unsafe: ("no-output-rule" | "no-fencing")[] = r.options.unsafe;
    const quiet: boolean = r.options.quiet;
    const pairs: number = r.env.BENCH_PAIRS;
    expect([seeds, seed, jit, unsafe, quiet, pairs]).toEqual([1000, 3, "on", [], false, 3]);
  });
});
