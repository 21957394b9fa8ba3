#!/usr/bin/env bun
// Hub benchmarks (issue 2): each figure is a ratio against a baseline measured in the same run.
// Run: bun run bench:hub   (builds nothing: run `bun run build` first so dist/pop is current)
import { existsSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createHub } from "../../src/hub/index.ts";
import { freshCopy, generateRoot, median, report, timeCommand, timePair } from "./_util.ts";

const ROOT = resolve(import.meta.dir, "../..");
const BUILT = join(ROOT, "dist/pop");
if (!existsSync(BUILT)) throw new Error("dist/pop is missing: run `bun run build` first");
const work = mkdtempSync(join(tmpdir(), "pop-bench-"));
const POP = freshCopy(BUILT, work); // as fresh as the floor and hello-world executables built below
const results: Array<{ name: string; ratio: number; ok: boolean }> = [];

// 1 and 2: in-process call cost.
const plug = join(work, "calls");
mkdirSync(join(plug, "bench", "contracts"), { recursive: true });
writeFileSync(join(plug, "bench", "plain.ts"), "export function add(hub: unknown, x: number): number { return x + 1; }\n");
writeFileSync(join(plug, "bench", "wrapped.ts"), "export function add(hub: unknown, x: number): number { return x + 1; }\n");
writeFileSync(join(plug, "bench", "contracts", "wrapped.ts"), "export function pre(hub: unknown, ctx: unknown): void {}\nexport function post(hub: unknown, ctx: unknown): void {}\n");
const hub = createHub();
await hub.pop.sub.add({ path: join(plug, "bench"), name: "bench", load: "eager" });
const plain = (await import(join(plug, "bench", "plain.ts"))).add as (h: unknown, x: number) => number;
const contract = await import(join(plug, "bench", "contracts", "wrapped.ts"));
const pre = contract.pre as (h: unknown, c: unknown) => void;
const post = contract.post as (h: unknown, c: unknown) => void;
const handWrapped = (x: number) => {
  const ctx: { args: unknown[]; ref: string; func: typeof plain; ret?: unknown } = { args: [x], ref: "bench.wrapped.add", func: plain };
  pre(hub, ctx);
  const ret = plain(hub, ...(ctx.args as [number]));
  ctx.ret = ret;
  post(hub, ctx);
  return ret;
};

const N = 5_000_000;
function loop(fn: (i: number) => number): number {
  let acc = 0;
  const t0 = Bun.nanoseconds();
  for (let i = 0; i < N; i++) acc += fn(i);
  const dt = (Bun.nanoseconds() - t0) / N;
  if (acc === 42) console.log("");
  return dt;
}
const rounds = (a: (i: number) => number, b: (i: number) => number): [number, number] => {
  const ta: number[] = [];
  const tb: number[] = [];
  for (let r = 0; r < 7; r++) {
    ta.push(loop(a));
    tb.push(loop(b));
  }
  return [median(ta), median(tb)];
};
{
  const [viaHub, direct] = rounds((i) => hub.bench.plain.add(i), (i) => plain(hub, i));
  results.push(report("call through the hub vs direct call", viaHub, direct, 2, "ns/call"));
}
{
  const [viaHub, byHand] = rounds((i) => hub.bench.wrapped.add(i), (i) => handWrapped(i));
  results.push(report("call with empty pre+post contract vs hand-written wrapper", viaHub, byHand, 1.5, "ns/call"));
}

// 3: eager load of 1000 modules vs bare import(), in-process, in a child built the way dist/pop is (bytecode), so pop's
// own code is loaded as users get it; the same child run from source (pop's code compiled by JSC on first use) is context.
const big = generateRoot(join(work, "big"), 1000);
{
  const child = join(import.meta.dir, "_load_child.ts");
  const compiled = join(work, "load-child");
  const b = Bun.spawnSync([process.execPath, "build", child, "--compile", "--bytecode", "--format=esm", "--no-compile-autoload-bunfig", "--no-compile-autoload-dotenv", `--outfile=${compiled}`], { stdout: "pipe", stderr: "pipe" });
  if (b.exitCode !== 0) throw new Error(`load child build failed: ${b.stderr}`);
  const measure = (cmd: string[]): [number, number] => {
    const bare: number[] = [];
    const viaHub: number[] = [];
    for (let r = 0; r < 21; r++) {
      for (const [mode, into] of [["bare", bare], ["hub", viaHub]] as const) {
        const p = Bun.spawnSync([...cmd, mode, big], { stdout: "pipe", stderr: "pipe" });
        if (p.exitCode !== 0) throw new Error(`load child (${mode}) failed: ${p.stderr}`);
        into.push(Number(p.stdout.toString().trim()));
      }
    }
    return [median(viaHub), median(bare)];
  };
  const [viaHub, bare] = measure([compiled]);
  results.push(report("eager load of 1000 modules vs Promise.all of bare import()", viaHub, bare, 1.3));
  const [srcHub, srcBare] = measure([process.execPath, child]);
  console.log(`     context: the same run from source with bun (pop's code compiled on first use): ${srcHub.toFixed(3)} ms vs ${srcBare.toFixed(3)} ms = ${(srcHub / srcBare).toFixed(2)}x`);
}

// 4: pop call in a 1000-module root (lazy) vs pop --version.
{
  const [call, version] = timePair([POP, "call", "gen.m500.a", "--args", "[1]", "--plugins", big], [POP, "--version"], { cwd: work });
  results.push(report("pop call in a 1000-module root vs pop --version", call, version, 1.5));
}

// Context for 4 (no target): the least any compiled program can do for that call, and a 1-module root.
{
  const floorSrc = join(work, "floor.ts");
  // What pop call has to do at least, the way pop does it (no node:fs): list the root, import the file, call, print.
  writeFileSync(
    floorSrc,
    'const [ref, args, root] = [process.argv[2]!, process.argv[3]!, process.argv[4]!];\nconst [sub, mod, fn] = ref.split(".");\n[...new Bun.Glob("*").scanSync({ cwd: root, onlyFiles: false })];\nconst m = await import(`${root}/${sub}/${mod}.ts`);\nconsole.log(m[fn!](null, ...JSON.parse(args)));\n',
  );
  const floor = join(work, "floor");
  const b = Bun.spawnSync([process.execPath, "build", floorSrc, "--compile", "--bytecode", "--format=esm", "--splitting", "--no-compile-autoload-bunfig", "--no-compile-autoload-dotenv", "--compile-autoload-package-json", `--outfile=${floor}`], { stdout: "pipe", stderr: "pipe" });
  if (b.exitCode !== 0) throw new Error(`floor build failed: ${b.stderr}`);
  const small = generateRoot(join(work, "small"), 1);
  const [version, floorMs] = timePair([POP, "--version"], [floor, "gen.m500.a", "[1]", big], { cwd: work });
  const [version2, smallMs] = timePair([POP, "--version"], [POP, "call", "gen.m0.a", "--args", "[1]", "--plugins", small], { cwd: work });
  console.log(`     context: a minimal compiled program doing that call (list the root, import, call) = ${(floorMs / version).toFixed(2)}x --version; pop call in a 1-module root = ${(smallMs / version2).toFixed(2)}x`);
}

// 5: pop --version vs a compiled hello world built with the same flags.
{
  const hello = join(work, "hello.ts");
  writeFileSync(hello, 'console.log("hello");\n');
  const exe = join(work, "hello");
  const b = Bun.spawnSync([process.execPath, "build", hello, "--compile", "--bytecode", "--format=esm", "--no-compile-autoload-bunfig", "--no-compile-autoload-dotenv", `--outfile=${exe}`], { stdout: "pipe", stderr: "pipe" });
  if (b.exitCode !== 0) throw new Error(`hello world build failed: ${b.stderr}`);
  const [version, helloMs] = timePair([POP, "--version"], [exe], { cwd: work });
  results.push(report("pop --version vs compiled hello world", version, helloMs, 2));
}

rmSync(work, { recursive: true, force: true });
const missed = results.filter((r) => !r.ok);
console.log(missed.length ? `\n${missed.length} figure(s) over target` : "\nall figures within target");
void timeCommand;
