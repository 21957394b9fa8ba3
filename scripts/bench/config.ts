#!/usr/bin/env bun
// Config integrator benchmark (issue 3): `pop config show examples/poppy` against `pop --version`, both measured in
// the same run, interleaved. Target: at most 2x. Run: bun run bench:config (after `bun run build`).
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freshCopy, report, timeCommand, timePair } from "./_util.ts";

const ROOT = join(import.meta.dir, "../..");
const BUILT = process.env.POP_BIN ?? join(ROOT, "dist/pop");
if (!existsSync(BUILT)) {
  console.error(`bench: ${BUILT} is missing; run \`bun run build\` first (or set POP_BIN)`);
  process.exit(1);
}
const work = mkdtempSync(join(tmpdir(), "pop-bench-"));
const POP = freshCopy(BUILT, work);
const runs = Number(process.env.RUNS ?? 60);
console.log(`pop config show vs pop --version (median of ${runs} interleaved runs each)`);
const [show, version] = timePair([POP, "config", "show", "examples/poppy"], [POP, "--version"], { cwd: ROOT, runs });
const r = report("pop config show examples/poppy vs pop --version", show, version, 2);
// For the record: the same with a config file and an environment variable in play (c12 reads and imports the file).
const [withFile] = [
  timeCommand([POP, "config", "show", "examples/poppy", "--config", "examples/poppy/staging.config.ts"], { cwd: ROOT, runs, env: { POPPY_ADDR: "0.0.0.0" } }),
];
console.log(
  `     with --config examples/poppy/staging.config.ts and POPPY_ADDR (c12 imported): ${withFile.toFixed(3)} ms (${(withFile / version).toFixed(2)}x)`,
);
rmSync(work, { recursive: true, force: true });
process.exit(r.ok ? 0 : 1);
