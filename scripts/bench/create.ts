#!/usr/bin/env bun
// Scaffolder benchmark (issue 9): `pop create project` against `pop --version`, measured in the same run,
// interleaved run by run (the order rotates). Target: at most 3x. Also, for the record, where the time goes:
// `--no-types` (every file but .pop/), the dry run (templates rendered, nothing written) and `pop types` alone.
// Run: bun scripts/bench/create.ts (after `bun run build`; POP_BIN=... for another build, RUNS=... for more runs;
// BEFORE=path/to/pop to time that build's create too, in the same interleaved runs: a change's before and after).
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
const BEFORE = process.env.BEFORE ? freshCopy(process.env.BEFORE, work) : undefined;
const runs = Number(process.env.RUNS ?? 40);
const out = join(work, "out");
// A cache of the bench's own: pop types links .pop/node_modules to one copy of Bun's type packages per pop build
// there, written by the first run on a machine (measured apart below), so every run after it measures the steady state.
const env = { XDG_CACHE_HOME: join(work, "cache") };
const once = (cmd: string[]) => timeCommand(cmd, { cwd: work, runs: 1, warmup: 0, env });

/** One timed `pop create project shop` into a fresh folder (removed afterwards, outside the timing). */
function createOnce(extra: string[] = [], pop = POP): number {
  const t = once([pop, "create", "project", "shop", "--dir", out, ...extra]);
  rmSync(out, { recursive: true, force: true });
  return t;
}

/**
 * Run `steps` interleaved, the order rotating each run; the median time of each and the median of its run-by-run
 * ratio to `version`. The full create writes Bun's type packages (MBs), which slows what runs right after it, so it
 * is measured in a loop of its own against --version, and the lighter variants in another.
 */
function interleave(steps: Record<string, () => number>): Record<string, { ms: number; ratio: number }> {
  const names = Object.keys(steps);
  const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const ratios: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let i = 0; i < runs + 2; i++) {
    const t: Record<string, number> = {};
    for (let k = 0; k < names.length; k++) {
      const n = names[(i + k) % names.length]!;
      t[n] = steps[n]!();
    }
    if (i < 2) continue;
    for (const n of names) {
      times[n]!.push(t[n]!);
      ratios[n]!.push(t[n]! / t.version!);
    }
  }
  return Object.fromEntries(names.map((n) => [n, { ms: median(times[n]!), ratio: median(ratios[n]!) }]));
}

const first = createOnce();
const version = () => once([POP, "--version"]);
console.log(`pop create project vs pop --version (median of ${runs} interleaved runs each)`);
const full = interleave({ version, create: () => createOnce(), ...(BEFORE ? { before: () => createOnce([], BEFORE) } : {}) });
const r = report("pop create project shop vs pop --version", full.create!.ms, full.version!.ms, 3, "ms", full.create!.ratio);
if (full.before) report(`  the same, with BEFORE=${process.env.BEFORE}`, full.before.ms, full.version!.ms, undefined, "ms", full.before.ratio);
const light = interleave({
  version,
  noTypes: () => createOnce(["--no-types"]),
  dry: () => once([POP, "create", "project", "shop", "--dir", out, "--dry-run"]),
});
report("  --no-types (every file but .pop/)", light.noTypes!.ms, light.version!.ms, undefined, "ms", light.noTypes!.ratio);
report("  --dry-run (rendered, nothing written)", light.dry!.ms, light.version!.ms, undefined, "ms", light.dry!.ratio);
console.log(`     the first create on this machine (writes Bun's type packages into the cache): ${first.toFixed(3)} ms`);

once([POP, "create", "project", "shop", "--dir", out, "--no-types"]);
const fresh: number[] = [];
for (let i = 0; i < Math.min(runs, 15); i++) {
  fresh.push(once([POP, "types", out]));
  rmSync(join(out, ".pop"), { recursive: true, force: true });
}
once([POP, "types", out]);
const again = timeCommand([POP, "types", out], { cwd: work, runs: Math.min(runs, 15), env });
console.log(`     pop types on the project, into an empty .pop/: ${median(fresh).toFixed(3)} ms; again, .pop/ up to date: ${again.toFixed(3)} ms`);
rmSync(work, { recursive: true, force: true });
process.exit(r.ok ? 0 : 1);
