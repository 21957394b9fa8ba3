#!/usr/bin/env bun
// Scaffolder benchmark (issue 9): `pop create project` against `pop --version`, measured in the same run,
// interleaved run by run. Target: at most 3x. Also, for the record, where the time goes: the dry run (templates
// rendered, nothing written) and `pop types` alone on the written project (what create runs after writing).
// Run: bun scripts/bench/create.ts (after `bun run build`; POP_BIN=... for another build, RUNS=... for more runs).
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freshCopy, median, report, timeCommand } from "./_util.ts";

const ROOT = join(import.meta.dir, "../..");
const BUILT = process.env.POP_BIN ?? join(ROOT, "dist/pop");
if (!existsSync(BUILT)) {
  console.error(`bench: ${BUILT} is missing; run \`bun run build\` first (or set POP_BIN)`);
  process.exit(1);
}
const work = mkdtempSync(join(tmpdir(), "pop-bench-create-"));
const POP = freshCopy(BUILT, work);
const runs = Number(process.env.RUNS ?? 40);
const out = join(work, "out");

/** One timed `pop create project shop` into a fresh folder (removed afterwards, outside the timing). */
function createOnce(extra: string[] = []): number {
  const t = timeCommand([POP, "create", "project", "shop", "--dir", out, ...extra], { cwd: work, runs: 1, warmup: 0 });
  rmSync(out, { recursive: true, force: true });
  return t;
}

const create: number[] = [];
const version: number[] = [];
const ratios: number[] = [];
for (let i = 0; i < runs + 3; i++) {
  const first = i % 2 === 0;
  const a = first ? createOnce() : 0;
  const v = timeCommand([POP, "--version"], { cwd: work, runs: 1, warmup: 0 });
  const c = first ? a : createOnce();
  if (i < 3) continue;
  create.push(c);
  version.push(v);
  ratios.push(c / v);
}
console.log(`pop create project vs pop --version (median of ${runs} interleaved runs each)`);
const r = report("pop create project shop vs pop --version", median(create), median(version), 3, "ms", median(ratios));

const noTypes: number[] = [];
for (let i = 0; i < runs; i++) noTypes.push(createOnce(["--no-types"]));
console.log(`     --no-types (every file but .pop/): ${median(noTypes).toFixed(3)} ms (${(median(noTypes) / median(version)).toFixed(2)}x)`);
const dry = timeCommand([POP, "create", "project", "shop", "--dir", out, "--dry-run"], { cwd: work, runs });
console.log(`     --dry-run (rendered, nothing written): ${dry.toFixed(3)} ms (${(dry / median(version)).toFixed(2)}x)`);
timeCommand([POP, "create", "project", "shop", "--dir", out], { cwd: work, runs: 1, warmup: 0 });
rmSync(join(out, ".pop"), { recursive: true, force: true });
const fresh: number[] = [];
for (let i = 0; i < Math.min(runs, 20); i++) {
  fresh.push(timeCommand([POP, "types", out], { cwd: work, runs: 1, warmup: 0 }));
  rmSync(join(out, ".pop"), { recursive: true, force: true });
}
const again = timeCommand([POP, "types", out], { cwd: work, runs });
console.log(`     of which pop types into an empty .pop/: ${median(fresh).toFixed(3)} ms; again, .pop/ up to date: ${again.toFixed(3)} ms`);
rmSync(work, { recursive: true, force: true });
process.exit(r.ok ? 0 : 1);
