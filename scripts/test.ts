#!/usr/bin/env bun
// The whole test suite: build dist/pop, then run bun test (tests spawn dist/pop). Extra args go to `bun test`.
const run = async (cmd: string[]) => {
  const p = Bun.spawn(cmd, { stdout: "inherit", stderr: "inherit", stdin: "inherit" });
  return p.exited;
};
if ((await run([process.execPath, "scripts/build.ts"])) !== 0) process.exit(1);
process.exit(await run([process.execPath, "test", ...Bun.argv.slice(2)]));
export {};
