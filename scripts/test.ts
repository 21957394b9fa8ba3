#!/usr/bin/env bun
// The whole test suite: make sure ZooKeeper is installed (the deploy tests start real servers), build dist/pop, check
// types (pop's code and the examples) and formatting, then bun test (tests spawn dist/pop). Extra args go to `bun test`.
import { existsSync } from "node:fs";
import { join } from "node:path";

const run = async (cmd: string[]) => {
  const p = Bun.spawn(cmd, { stdout: "inherit", stderr: "inherit", stdin: "inherit" });
  return p.exited;
};
// Debian's ZooKeeper and the Java it brings: installed here when run as root (as CI does), else a clear way to get it.
const ZK_JAR = "/usr/share/java/zookeeper.jar";
const ZK_INSTALL = "apt-get update && apt-get install -y zookeeper";
if (!existsSync(ZK_JAR) || !Bun.which("java")) {
  if (process.getuid?.() !== 0 || !Bun.which("apt-get")) {
    console.error(`test: ZooKeeper is not installed (no ${ZK_JAR} or no java): the deploy tests need it; install it with \`${ZK_INSTALL}\` (as root)`);
    process.exit(1);
  }
  console.error(`test: ZooKeeper is not installed: ${ZK_INSTALL}`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  for (const cmd of [
    ["apt-get", "update"],
    ["apt-get", "install", "-y", "zookeeper"],
  ]) {
    const p = Bun.spawn(cmd, { stdout: "inherit", stderr: "inherit", stdin: "ignore", env });
    if ((await p.exited) !== 0 || (cmd[1] === "install" && !existsSync(ZK_JAR))) {
      console.error(`test: \`${cmd.join(" ")}\` failed: install ZooKeeper with \`${ZK_INSTALL}\` (as root)`);
      process.exit(1);
    }
  }
}
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
