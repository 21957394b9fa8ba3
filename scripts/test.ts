#!/usr/bin/env bun
// The whole test suite: build dist/pop, check types (pop's code and the examples) and formatting, then bun test
// (tests spawn dist/pop). Extra args go to `bun test`.
import { join } from "node:path";

const run = async (cmd: string[]) => {
  const p = Bun.spawn(cmd, { stdout: "inherit", stderr: "inherit", stdin: "inherit" });
  return p.exited;
};
const tsc = join(import.meta.dir, "../node_modules/.bin/tsc");
const steps: Array<[string, string[]]> = [
  ["build", [process.execPath, "scripts/build.ts"]],
  ["typecheck", [tsc, "--noEmit", "-p", "."]],
  ["typecheck examples", [tsc, "--noEmit", "-p", "tsconfig.examples.json"]],
  [
    "format check (bun run fmt fixes it)",
    [process.execPath, "fmt", "--no-script", "--check", "src", "plugins", "scripts", ...new Bun.Glob("test/*.ts").scanSync()],
  ],
];
for (const [name, cmd] of steps) {
  if ((await run(cmd)) !== 0) {
    console.error(`test: ${name} failed`);
    process.exit(1);
  }
}
process.exit(await run([process.execPath, "test", ...Bun.argv.slice(2)]));
