// Shared helpers for the benchmark scripts: timing, process runs, report lines. Benchmarks print ratios; they are not tests.
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Figure 4's minimal program (`prog REF ARGS ROOT`): what pop call has to do at least, the way pop does it (no
 * node:fs): list the root, import the module's file, call the function, print. The head reads the arguments. */
export const FLOOR_HEAD = 'const [ref, args, root] = [process.argv[2]!, process.argv[3]!, process.argv[4]!];\nconst [sub, mod, fn] = ref.split(".");\n';
export const FLOOR_BODY =
  '[...new Bun.Glob("*").scanSync({ cwd: root, onlyFiles: false })];\nconst m = await import(`${root}/${sub}/${mod}.ts`);\nconsole.log(m[fn!](null, ...JSON.parse(args)));\n';
export const FLOOR_PROGRAM = FLOOR_HEAD + FLOOR_BODY;

/** Median of numbers. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Median wall time (ms) of running a command `runs` times, after `warmup` unmeasured runs. Fails loudly if it exits non-zero. */
export function timeCommand(cmd: string[], opts: { cwd?: string; runs?: number; warmup?: number; env?: Record<string, string> } = {}): number {
  const runs = opts.runs ?? 30;
  const times: number[] = [];
  for (let i = 0; i < (opts.warmup ?? 3) + runs; i++) {
    const t0 = performance.now();
    const p = Bun.spawnSync(cmd, {
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, NO_COLOR: "1", ...opts.env },
    });
    const dt = performance.now() - t0;
    if (p.exitCode !== 0) throw new Error(`${cmd.join(" ")} exited ${p.exitCode}: ${p.stderr.toString()}`);
    if (i >= (opts.warmup ?? 3)) times.push(dt);
  }
  return median(times);
}

/**
 * Interleave two commands run by run so drift on the machine hits both alike; returns [medianA, medianB] in ms and
 * the median of the run-by-run ratios A/B. The side that goes first alternates.
 */
export function timePair(a: string[], b: string[], opts: { cwd?: string; runs?: number } = {}): [number, number, number] {
  const ta: number[] = [];
  const tb: number[] = [];
  const r: number[] = [];
  for (let i = 0; i < (opts.runs ?? 60) + 3; i++) {
    const first = i % 2 === 0 ? a : b;
    const t1 = timeCommand(first, { ...opts, runs: 1, warmup: 0 });
    const t2 = timeCommand(first === a ? b : a, { ...opts, runs: 1, warmup: 0 });
    const [x, y] = first === a ? [t1, t2] : [t2, t1];
    if (i >= 3) {
      ta.push(x);
      tb.push(y);
      r.push(x / y);
    }
  }
  return [median(ta), median(tb), median(r)];
}

/**
 * Compile a program the way dist/pop is built (`--compile --bytecode --format=esm --splitting`, no bunfig or .env
 * autoload) into `dir/name`, from `source` written to `dir/name.ts` or from the file `entry`. Returns the executable.
 */
export function compile(dir: string, name: string, source: string | undefined, entry = join(dir, `${name}.ts`)): string {
  if (source !== undefined) writeFileSync(entry, source);
  const exe = join(dir, name);
  const b = Bun.spawnSync(
    [
      process.execPath,
      "build",
      entry,
      "--compile",
      "--bytecode",
      "--format=esm",
      "--splitting",
      "--no-compile-autoload-bunfig",
      "--no-compile-autoload-dotenv",
      "--compile-autoload-package-json",
      `--outfile=${exe}`,
    ],
    { stdout: "pipe", stderr: "pipe" },
  );
  if (b.exitCode !== 0) throw new Error(`building ${name} failed: ${b.stderr.toString()}`);
  return exe;
}

/** Write a plugin root with `n` modules of 3 functions each in sub `gen`. */
export function generateRoot(dir: string, n: number): string {
  mkdirSync(join(dir, "gen"), { recursive: true });
  for (let i = 0; i < n; i++) {
    writeFileSync(
      join(dir, "gen", `m${i}.ts`),
      `export function a(hub: unknown, x: number): number { return x + ${i}; }\n` +
        `export function b(hub: unknown, x: number): number { return x * ${i}; }\n` +
        `export async function c(hub: unknown, { x }: { x: number }): Promise<number> { return x - ${i}; }\n`,
    );
  }
  return dir;
}

/**
 * One result line: name, both medians, the ratio and the target (none: reported only). `pairRatio`, when given, is the
 * median of the pair-by-pair ratios, which drift on the machine moves less than the ratio of the medians: it is the
 * figure judged, and the ratio of the medians is shown beside it.
 */
export function report(
  name: string,
  subject: number,
  baseline: number,
  target: number | undefined,
  unit = "ms",
  pairRatio?: number,
): { name: string; ratio: number; ok: boolean } {
  const ratio = pairRatio ?? subject / baseline;
  const ok = target === undefined || ratio <= target;
  const tag = target === undefined ? "    " : ok ? "ok  " : "MISS";
  const of = pairRatio === undefined ? "" : ` (ratio of medians ${(subject / baseline).toFixed(3)}x)`;
  console.log(
    `${tag} ${name}: ${subject.toFixed(3)} ${unit} vs ${baseline.toFixed(3)} ${unit} = ${ratio.toFixed(3)}x${of}${target === undefined ? ", no target" : `, target <= ${target}x`}`,
  );
  return { name, ratio, ok };
}

/**
 * A fresh copy of an executable, to time instead of the original. How long ago a 100 MB executable was written
 * changes its start-up by up to ~1 ms on the VM these figures come from (its page-cache pages age; a new copy
 * maps in fewer, larger pieces), so every executable a ratio compares must be equally fresh: copied, or built,
 * by the same run.
 */
export function freshCopy(exe: string, dir: string): string {
  const copy = join(dir, `fresh-${Date.now()}-${exe.split("/").pop()}`);
  copyFileSync(exe, copy);
  chmodSync(copy, 0o755);
  return copy;
}
