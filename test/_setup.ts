// Preloaded by `bun test` (bunfig.toml): one temporary folder per run for every test's files, removed when the run ends.
import { afterAll } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dir = mkdtempSync(join(tmpdir(), "pop-tests-"));
process.env.POP_TEST_TMP = dir;
// Hundreds of MB by the end (projects with their own copies of Bun's types): more than the default 5 s to remove.
afterAll(() => rmSync(dir, { recursive: true, force: true }), 120_000);
