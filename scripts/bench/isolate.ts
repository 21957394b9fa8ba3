#!/usr/bin/env bun
// Isolated subs (issue 10): the round trip of a call into a worker-isolated and a process-isolated sub against the
// same call in-process, inside the compiled executable, measured in one run and interleaved round by round; each
// figure a ratio against in-process. Also what isolating costs `pop call` at start.
// Run: bun scripts/bench/isolate.ts   (POP_BIN=... for another build; ROUNDS=15 CALLS=10000 RUNS=20 to change the sample)
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { median, timePair } from "./_util.ts";

const BUILT = resolve(process.env.POP_BIN ?? join(import.meta.dir, "../../dist/pop"));
if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: run \`bun run build\` first (or set POP_BIN)`);
const ROUNDS = Number(process.env.ROUNDS ?? 15);
const CALLS = Number(process.env.CALLS ?? 10000);
const RUNS = Number(process.env.RUNS ?? 20);
const BURST = 100;

// A sub to isolate (one function, no contracts) and a driver sub on the host timing calls into it.
const root = mkdtempSync(join(tmpdir(), "pop-bench-isolate-"));
mkdirSync(join(root, "iso"));
mkdirSync(join(root, "driver"));
writeFileSync(join(root, "iso", "echo.ts"), "export function echo(hub: unknown, x: unknown): unknown {\n  return x;\n}\n");
writeFileSync(
  join(root, "driver", "time.ts"),
  `export async function calls(hub: any, { n, burst }: { n: number; burst: number }) {
  const f = hub.iso.echo.echo;
  for (let i = 0; i < 200; i++) await f(i); // warm-up
  let t0 = performance.now();
  for (let i = 0; i < n; i++) await f(i);
  const one = ((performance.now() - t0) * 1000) / n;
  t0 = performance.now();
  for (let i = 0; i < n; i += burst) await Promise.all(Array.from({ length: burst }, (_, j) => f(i + j)));
  return { one, burst: ((performance.now() - t0) * 1000) / n };
}
`,
);

const MODES = [
  ["in-process", []],
  ["worker", ["--isolate", "iso=worker"]],
  ["process", ["--isolate", "iso=process"]],
] as const;

function measure(extra: readonly string[]): { one: number; burst: number } {
  const args = ["call", "driver.time.calls", `n=${CALLS}`, `burst=${BURST}`, "--plugins", root, "--json", ...extra];
  const p = Bun.spawnSync([BUILT, ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
  if (p.exitCode !== 0) throw new Error(`pop ${args.join(" ")} exited ${p.exitCode}: ${p.stderr.toString()}`);
  return JSON.parse(p.stdout.toString());
}

const one = new Map<string, number[]>(MODES.map(([n]) => [n, []]));
const burst = new Map<string, number[]>(MODES.map(([n]) => [n, []]));
for (let r = 0; r < ROUNDS; r++) {
  // Rotate the order each round so drift on the machine hits every mode alike.
  for (let k = 0; k < MODES.length; k++) {
    const [name, extra] = MODES[(r + k) % MODES.length]!;
    const m = measure(extra);
    one.get(name)!.push(m.one);
    burst.get(name)!.push(m.burst);
  }
}

console.log(`pop: ${BUILT}; Bun ${Bun.version}`);
console.log(`isolated call round trip inside pop: ${ROUNDS} runs of ${CALLS} calls of iso.echo.echo(i) from a host plugin, median per run`);
const base = median(one.get("in-process")!);
const baseBurst = median(burst.get("in-process")!);
for (const [name] of MODES) {
  const s = median(one.get(name)!);
  const b = median(burst.get(name)!);
  console.log(
    `  ${name.padEnd(10)}  one at a time ${s.toFixed(2).padStart(7)} us/call (${(s / base).toFixed(0).padStart(5)}x in-process)   ` +
      `${BURST} in flight ${b.toFixed(2).padStart(7)} us/call (${(b / baseBurst).toFixed(0).padStart(5)}x)`,
  );
}

// What isolating costs a whole `pop call` (starting the worker or the child, loading the sub there, closing it).
console.log(`pop call iso.echo.echo, ${RUNS} interleaved runs per side, median wall time:`);
const plain = [BUILT, "call", "iso.echo.echo", "--args", "[1]", "--plugins", root];
for (const [name, extra] of MODES.slice(1)) {
  const [a, b, ratio] = timePair([...plain, ...extra], plain, { runs: RUNS });
  console.log(`  --isolate iso=${name.padEnd(8)} ${a.toFixed(1)} ms vs ${b.toFixed(1)} ms in-process: ${ratio.toFixed(2)}x (+${(a - b).toFixed(1)} ms)`);
}
rmSync(root, { recursive: true, force: true });
