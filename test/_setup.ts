// Preloaded by `bun test` (bunfig.toml): one temporary folder per run for every test's files, removed when the run ends.
import { afterAll } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dir = mkdtempSync(join(tmpdir(), "pop-tests-"));
process.env.POP_TEST_TMP = dir;
afterAll(() => rmSync(dir, { recursive: true, force: true }));
