#!/usr/bin/env bun
// Isolated subs (issue 10): the round trip of a call into a worker-isolated and a process-isolated sub against the
// same call in-process, measured in one run, interleaved round by round; each figure a ratio against in-process.
// Run: bun scripts/bench/isolate.ts   (ROUNDS=20 CALLS=2000 to change the sample)
import { join, resolve } from "node:path";
import { addSub, closeHub, createHub, type Hub } from "../../src/hub/index.ts";
import { isolateSub } from "../../src/isolate/index.ts";
import { median } from "./_util.ts";

const ROOT = resolve(import.meta.dir, "../../test/fixtures/isolate/root");
const ROUNDS = Number(process.env.ROUNDS ?? 15);
const CALLS = Number(process.env.CALLS ?? 2000);
const BURST = 100;

const plain = createHub();
await addSub(plain, { path: join(ROOT, "calc"), name: "calc", load: "eager" });
const worker = createHub();
await isolateSub(worker, "calc", { mode: "worker", folders: [join(ROOT, "calc")], source: "bench" });
const child = createHub();
await isolateSub(child, "calc", { mode: "process", folders: [join(ROOT, "calc")], source: "bench" });
const hubs: Array<[string, Hub]> = [
  ["in-process", plain],
  ["worker", worker],
  ["process", child],
];

/** Microseconds per call, one awaited after the other. */
async function sequential(hub: Hub): Promise<number> {
  const f = hub.calc.echo.echo as (x: unknown) => unknown;
  const t0 = performance.now();
  for (let i = 0; i < CALLS; i++) await f(i);
  return ((performance.now() - t0) * 1000) / CALLS;
}

/** Microseconds per call with BURST calls in flight at once. */
async function burst(hub: Hub): Promise<number> {
  const f = hub.calc.echo.echo as (x: unknown) => unknown;
  const t0 = performance.now();
  for (let i = 0; i < CALLS; i += BURST) await Promise.all(Array.from({ length: BURST }, (_, j) => f(i + j)));
  return ((performance.now() - t0) * 1000) / CALLS;
}

const seq = new Map<string, number[]>(hubs.map(([n]) => [n, []]));
const par = new Map<string, number[]>(hubs.map(([n]) => [n, []]));
for (const [, hub] of hubs) await sequential(hub); // warm-up
for (let r = 0; r < ROUNDS; r++) {
  // Rotate the order each round so drift on the machine hits every side alike.
  for (let k = 0; k < hubs.length; k++) {
    const [name, hub] = hubs[(r + k) % hubs.length]!;
    seq.get(name)!.push(await sequential(hub));
    par.get(name)!.push(await burst(hub));
  }
}

console.log(`isolated call round trip, Bun ${Bun.version}: ${ROUNDS} rounds of ${CALLS} calls of calc.echo.echo(i), median per round`);
const base = median(seq.get("in-process")!);
const baseBurst = median(par.get("in-process")!);
for (const [name] of hubs) {
  const s = median(seq.get(name)!);
  const p = median(par.get(name)!);
  console.log(
    `  ${name.padEnd(10)}  one at a time ${s.toFixed(2).padStart(7)} us/call (${(s / base).toFixed(1).padStart(6)}x in-process)   ` +
      `${BURST} in flight ${p.toFixed(2).padStart(7)} us/call (${(p / baseBurst).toFixed(1).padStart(6)}x)`,
  );
}
for (const [, hub] of hubs) await closeHub(hub);
