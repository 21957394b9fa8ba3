#!/usr/bin/env bun
// What a one-shot pop command runs, counted the way JSC pays for it (issue 7, figure 4's accounting): every function
// a compiled program calls for the first time is materialised from the bytecode cache, ~32 ns per byte of its
// bytecode on this VM (100 functions of ~400 bytes: ~1.3 ms with --bytecode, ~4.6 ms without), whether or not its
// cold branches run. JSC's dumpGeneratedBytecodes lists each function (and module top level, and JS builtin) as it is
// first run; this counts them and their bytes for `pop call` in a 1000-module root, `pop --version`, and the minimal
// program figure 4 compares with. The counts are exact and do not move with the machine's load, unlike timings.
// Session 6: JS builtins (Array map/filter/some/find, Object.fromEntries, new Promise, ...) show here as small blocks
// but cost 20-150 us each on first use (they are compiled from source); regexes compiled are counted too (JSC's
// dumpCompiledRegExpPatterns; the first costs ~0.15 ms). test/build.test.ts keeps pop --version and pop call at none.
// Run: bun run build && bun run bench:bytecode   (TOP=N lists the N biggest functions of pop call, default 25)
import { join, resolve } from "node:path";
import { compile, FLOOR_PROGRAM, freshCopy, generateRoot } from "./_util.ts";
import { tmp } from "../../test/helpers.ts";

const POP = resolve(process.env.POP_BIN ?? join(import.meta.dir, "../../dist/pop"));
const TOP = Number(process.env.TOP ?? 25);
const work = tmp("pop-bench-bytecode-");
const big = generateRoot(join(work, "big"), 1000);
const floor = compile(work, "floor", FLOOR_PROGRAM);
const hello = compile(work, "hello", 'console.log("hi");\n');

interface Block {
  name: string;
  bytes: number;
}

/** The code blocks a command links, in the order it first runs them. */
function blocks(cmd: string[]): Block[] {
  const p = Bun.spawnSync(cmd, {
    cwd: work,
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, BUN_JSC_dumpGeneratedBytecodes: "1", BUN_JSC_dumpCompiledRegExpPatterns: "1" },
  });
  if (p.exitCode !== 0) throw new Error(`${cmd.join(" ")} exited ${p.exitCode}: ${p.stderr.toString().slice(-500)}`);
  const out: Block[] = [];
  for (const line of `${p.stdout}\n${p.stderr}`.split("\n")) {
    const m = /^(\S+?)#[A-Za-z0-9]+:\[.*metadata\); (\d+) bytes/.exec(line);
    if (m) out.push({ name: m[1]!, bytes: Number(m[2]) });
    // Each regex compiled (the first costs ~0.15 ms, docs/benchmarks.md) counts as a block of no bytes, named for its pattern.
    else if (line.startsWith("RegExp pattern for ")) out.push({ name: `regex ${line.slice(19, 60)}`, bytes: 0 });
  }
  if (out.length === 0) throw new Error(`${cmd.join(" ")}: JSC printed no code blocks (is BUN_JSC_dumpGeneratedBytecodes honoured by this Bun?)`);
  return out;
}

const sum = (bs: Block[]) => bs.reduce((n, b) => n + b.bytes, 0);
const rows: Array<[string, Block[]]> = [
  ["minimal program (figure 4's baseline): list the root, import, call, print", blocks([freshCopy(floor, work), "gen.m500.a", "[1]", big])],
  ["a compiled hello world", blocks([freshCopy(hello, work)])],
  ["pop --version", blocks([freshCopy(POP, work), "--version"])],
  ["pop call gen.m500.a --args [1] in the 1000-module root", blocks([freshCopy(POP, work), "call", "gen.m500.a", "--args", "[1]", "--plugins", big])],
];
const base = sum(rows[0]![1]);
console.log(`pop: ${POP}; Bun ${Bun.version}; bytecode first run (code blocks linked), against the minimal program`);
for (const [what, bs] of rows) {
  const regexes = bs.filter((b) => b.name.startsWith("regex ")).length;
  console.log(
    `  ${String(bs.length - regexes).padStart(4)} blocks ${String(sum(bs)).padStart(7)} bytes ${(sum(bs) / base).toFixed(2).padStart(6)}x  ${String(regexes).padStart(2)} regexes  ${what}`,
  );
}
const call = rows[3]![1];
console.log(`\nthe ${TOP} biggest blocks of pop call (bytes, name; a module's top level shows as its chunk):`);
for (const b of [...call].sort((a, b) => b.bytes - a.bytes).slice(0, TOP)) console.log(`  ${String(b.bytes).padStart(6)}  ${b.name}`);
