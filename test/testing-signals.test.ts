// A signal sent to `pop test` reaches the bun test it started, and pop exits with bun test's own code once it has
// finished (a CI timeout's SIGTERM, a Ctrl-C), never leaving it running behind.
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { POP, tmp, writeTree } from "./helpers.ts";

/** A project whose one test says "started", then waits; on the signal it writes a marker, a moment later, and exits 7. */
function project(signal: string): { dir: string; marker: string } {
  const dir = join(tmp("pop-test-signal-"), "proj");
  const marker = join(dir, "cleaned-up");
  writeTree(dir, {
    "proj/init.ts": "export function cli(hub: any) {}\n",
    "test/wait.test.ts": `import { test } from "bun:test";
test("waits for a signal", async () => {
  process.on(${JSON.stringify(signal)}, () => {
    console.log("bun test got ${signal}");
    setTimeout(async () => {
      await Bun.write(${JSON.stringify(marker)}, "done");
      process.exit(7);
    }, 100);
  });
  console.log("started");
  await new Promise((done) => setTimeout(done, 20000)); // bounded: a pop that left it behind does not leak it for ever
}, 60000);
`,
  });
  return { dir, marker };
}

describe("pop test and signals", () => {
  test.each(["SIGTERM", "SIGINT"] as const)(
    "%s sent to pop alone is passed on; pop waits for bun test and exits with its code",
    async (signal) => {
      const { dir, marker } = project(signal);
      const proc = Bun.spawn([POP, "test", "--no-types", dir], {
        env: { ...process.env, NO_COLOR: "1" },
        stdout: "pipe",
        stderr: "pipe",
        stdin: "ignore",
      });
      let stdout = "";
      const decoder = new TextDecoder();
      const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
      while (!stdout.includes("started\n")) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`pop test ended before the test started: ${stdout}`);
        stdout += decoder.decode(value, { stream: true });
      }
      proc.kill(signal); // pop only, not its process group: only pop can pass it on
      const code = await proc.exited;
      expect(code).toBe(7); // bun test's own
      expect(existsSync(marker)).toBe(true); // bun test had finished its clean-up when pop exited
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        stdout += decoder.decode(value, { stream: true });
      }
      expect(stdout).toContain(`bun test got ${signal}\n`);
    },
    30_000,
  );
});
