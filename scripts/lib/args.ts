// Command-line options and environment knobs of the scripts, declared once per script and
// checked before anything runs: a typo or a malformed value stops the script with a message
// naming the option and what it accepts, because a benchmark that silently falls back to its
// default prints numbers nobody asked for.

/** One option (`--name`) or environment knob (`NAME=`); `min`/`max` are inclusive, `above` exclusive. */
export type Opt =
  | { type: "int"; help: string; default?: number; min?: number; max?: number; metavar?: string }
  | { type: "float"; help: string; default?: number; min?: number; max?: number; above?: number; metavar?: string }
  | { type: "string"; help: string; default?: string; metavar?: string }
  | { type: "flag"; help: string }
  | { type: "enum"; help: string; values: readonly string[]; default?: string }
  /** A comma-separated subset of `values` (`--unsafe a,b`); absent means none. */
  | { type: "enums"; help: string; values: readonly string[] };

export type Opts = Record<string, Opt>;

/** The parsed value of one option: defaults make it always present, flags are booleans. */
export type ValueOf<O extends Opt> = O extends { type: "flag" }
  ? boolean
  : O extends { type: "enums"; values: readonly (infer V)[] }
    ? V[]
    : O extends { type: "enum"; values: readonly (infer V)[] }
      ? O extends { default: string } ? V : V | undefined
      : O extends { type: "int" | "float" }
        ? O extends { default: number } ? number : number | undefined
        : O extends { default: string } ? string : string | undefined;

export type Values<S extends Opts> = { -readonly [K in keyof S]: ValueOf<S[K]> };

export interface Cli<O extends Opts, E extends Opts> {
  /** How the script is started, e.g. `npm run sim -- [options]`. */
  usage: string;
  /** What the script does, for --help. */
  about: string;
  options: O;
  /** Environment variables the script reads, keyed by their name. */
  env?: E;
}

export type Parsed<O extends Opts, E extends Opts> =
  | { kind: "ok"; options: Values<O>; env: Values<E> }
  | { kind: "help"; text: string }
  | { kind: "error"; message: string };

/** Parses `argv` (without node and the script) and `env` against `cli`; never exits. */
export function parseArgs<const O extends Opts, const E extends Opts = {}>(
  cli: Cli<O, E>,
  argv: readonly string[],
  env: Record<string, string | undefined>,
): Parsed<O, E> {
  if (argv.includes("--help") || argv.includes("-h")) return { kind: "help", text: helpText(cli) };
  try {
    return { kind: "ok", options: parseOptions(cli.options, argv), env: parseEnv(cli.env ?? ({} as E), env) };
  } catch (e) {
    if (e instanceof ArgError) return { kind: "error", message: e.message };
    throw e;
  }
}

/** parseArgs on this process: prints the help (exit 0) or the error (exit 2), else returns the values. */
export function cli<const O extends Opts, const E extends Opts = {}>(spec: Cli<O, E>): { options: Values<O>; env: Values<E> } {
  const r = parseArgs(spec, process.argv.slice(2), process.env);
  if (r.kind === "help") {
    console.log(r.text);
    process.exit(0);
  }
  if (r.kind === "error") {
    console.error(`${r.message}\n(usage: ${spec.usage}; --help lists the options)`);
    process.exit(2);
  }
  return r;
}

class ArgError extends Error {}

function parseOptions<O extends Opts>(spec: O, argv: readonly string[]): Values<O> {
  const given = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    // A bare `--` is what `npm run x -- a -- b` passes through (README: `[-- --disk ...] [-- --reads ...]`).
    if (a === "--") continue;
    if (!a.startsWith("--")) throw new ArgError(`unexpected argument ${JSON.stringify(a)}: options are ${names(spec)}`);
    const eq = a.indexOf("=");
    const name = a.slice(2, eq < 0 ? undefined : eq);
    const opt = spec[name];
    if (!opt) throw new ArgError(`unknown option --${name}: options are ${names(spec)}`);
    if (given.has(name)) throw new ArgError(`--${name} is given twice`);
    if (opt.type === "flag") {
      if (eq >= 0) throw new ArgError(`--${name} is a switch and takes no value (got ${JSON.stringify(a.slice(eq + 1))})`);
      given.set(name, true);
      continue;
    }
    let value: string | undefined;
    if (eq >= 0) value = a.slice(eq + 1);
    // The next word is the value unless it is another option; `-1` is a (malformed) value.
    else if (i + 1 < argv.length && !argv[i + 1]!.startsWith("--")) value = argv[++i];
    if (value === undefined || value === "") throw new ArgError(`--${name} needs a value: ${accepts(opt)}`);
    given.set(name, value);
  }
  const out: Record<string, unknown> = {};
  for (const [name, opt] of Object.entries(spec)) {
    const v = given.get(name);
    out[name] = opt.type === "flag" ? v === true : v === undefined ? fallback(opt) : convert(opt, v as string, `--${name}`);
  }
  return out as Values<O>;
}

function parseEnv<E extends Opts>(spec: E, env: Record<string, string | undefined>): Values<E> {
  const out: Record<string, unknown> = {};
  for (const [name, opt] of Object.entries(spec)) {
    const v = env[name];
    if (opt.type === "flag") {
      if (v !== undefined && v !== "0" && v !== "1") throw new ArgError(`${name}: ${JSON.stringify(v)} is not allowed: ${accepts(opt)}`);
      out[name] = v === "1";
    } else if (v === undefined) out[name] = fallback(opt);
    else if (v === "") throw new ArgError(`${name} is set but empty: ${accepts(opt)}, or unset it for the default`);
    else out[name] = convert(opt, v, name);
  }
  return out as Values<E>;
}

function fallback(opt: Exclude<Opt, { type: "flag" }>): unknown {
  return opt.type === "enums" ? [] : opt.default;
}

const INT = /^[+-]?\d+$/;
const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

function convert(opt: Exclude<Opt, { type: "flag" }>, raw: string, label: string): unknown {
  const bad = () => new ArgError(`${label}: ${JSON.stringify(raw)} is not allowed: ${accepts(opt)}`);
  switch (opt.type) {
    case "string":
      return raw;
    case "enum":
      if (!opt.values.includes(raw)) throw bad();
      return raw;
    case "enums": {
      const parts = raw.split(",");
      if (parts.some((p) => !opt.values.includes(p))) throw bad();
      return [...new Set(parts)];
    }
    case "int":
    case "float": {
      const n = Number(raw);
      if (!(opt.type === "int" ? INT.test(raw) && Number.isSafeInteger(n) : FLOAT.test(raw) && Number.isFinite(n))) throw bad();
      if (opt.min !== undefined && n < opt.min) throw bad();
      if (opt.max !== undefined && n > opt.max) throw bad();
      if (opt.type === "float" && opt.above !== undefined && n <= opt.above) throw bad();
      return n;
    }
  }
}

/** What an option accepts, in words: "expected an integer ≥ 1". */
export function accepts(opt: Opt): string {
  switch (opt.type) {
    case "flag":
      return "expected 1 or 0";
    case "string":
      return "expected a non-empty value";
    case "enum":
      return `expected one of ${opt.values.join(", ")}`;
    case "enums":
      return `expected a comma-separated list of ${opt.values.join(", ")}`;
    case "int":
    case "float": {
      const what = opt.type === "int" ? "an integer" : "a number";
      const above = opt.type === "float" ? opt.above : undefined;
      if (opt.min !== undefined && opt.max !== undefined) return `expected ${what} from ${opt.min} to ${opt.max}`;
      const low = above !== undefined ? `> ${above}` : opt.min !== undefined ? `≥ ${opt.min}` : "";
      const high = opt.max !== undefined ? `≤ ${opt.max}` : "";
      return `expected ${[what, [low, high].filter(Boolean).join(" and ")].filter(Boolean).join(" ")}`;
    }
  }
}

function names(spec: Opts): string {
  return [...Object.keys(spec).map((n) => `--${n}`), "--help"].join(", ");
}

function metavar(opt: Opt): string {
  switch (opt.type) {
    case "flag":
      return "";
    case "enum":
      return opt.values.join("|");
    case "enums":
      return "LIST";
    case "int":
      return opt.metavar ?? "N";
    case "float":
      return opt.metavar ?? "X";
    case "string":
      return opt.metavar ?? "VALUE";
  }
}

function describe(opt: Opt): string {
  const notes: string[] = [];
  if (opt.type === "int" || opt.type === "float" || opt.type === "enums") notes.push(accepts(opt).replace(/^expected /, ""));
  if ("default" in opt && opt.default !== undefined) notes.push(`default ${opt.default}`);
  return notes.length ? `${opt.help} (${notes.join("; ")})` : opt.help;
}

function helpText(cli: Cli<Opts, Opts>): string {
  const rows = (entries: [string, string][]) => {
    const w = Math.max(...entries.map(([l]) => l.length));
    return entries.map(([l, d]) => `  ${l.padEnd(w)}  ${d}`);
  };
  const opts: [string, string][] = Object.entries(cli.options).map(([n, o]) => [`--${n}${o.type === "flag" ? "" : ` ${metavar(o)}`}`, describe(o)]);
  opts.push(["--help", "print this help and exit"]);
  const lines = [`usage: ${cli.usage}`, "", cli.about, "", "options:", ...rows(opts)];
  const env = Object.entries(cli.env ?? {});
  if (env.length) lines.push("", "environment:", ...rows(env.map(([n, o]) => [`${n}=${o.type === "flag" ? "1" : metavar(o)}`, describe(o)])));
  return lines.join("\n");
}
