// Isolation from the command line alone, through the compiled executable: under --json an isolated plugin's console
// output goes to stderr as an in-process one's does, and --isolate-env / --isolate-memory grant a process-isolated sub
// what a manifest's "env" and "memory" grant.
import { describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { pop } from "./helpers.ts";

const PLAIN = resolve(import.meta.dir, "fixtures/isolate/plain");
const NOISE = "noise from loading box.noise\nnoise from plugin\ninfo from plugin\n";

describe("--json with an isolated sub: stdout carries only the data", () => {
  test("in-process, the plugin's console output is on stderr (the reference)", async () => {
    const r = await pop(["call", "box.noise.f", "--plugins", PLAIN, "--json"]);
    expect(r.stdout).toBe('{\n  "a": 1\n}\n');
    expect(r.stderr).toStartWith(NOISE);
    expect(r.code).toBe(0);
  });

  for (const mode of ["worker", "process"] as const) {
    test(`--isolate box=${mode}: the same, console output on stderr, stdout only the JSON`, async () => {
      const inProcess = await pop(["call", "box.noise.f", "--plugins", PLAIN, "--json"]);
      const r = await pop(["call", "box.noise.f", "--plugins", PLAIN, "--json", "--isolate", `box=${mode}`]);
      expect(r.stdout).toBe('{\n  "a": 1\n}\n');
      expect(r.stderr).toBe(inProcess.stderr);
      expect(r.code).toBe(0);
    }, 30_000);

    test(`--isolate box=${mode} without --json: the plugin's console.log stays on stdout`, async () => {
      const r = await pop(["call", "box.noise.f", "--plugins", PLAIN, "--isolate", `box=${mode}`]);
      expect(r.stdout).toStartWith(NOISE);
      expect(r.stdout).toEndWith('{\n  "a": 1\n}\n');
      expect(r.stderr).toBe("");
    }, 30_000);
  }
});
