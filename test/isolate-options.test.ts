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

describe("--isolate-env and --isolate-memory: a process-isolated sub's grants without a manifest", () => {
  const NAMES = JSON.stringify(["POP_TEST_GRANTED", "POP_TEST_SECRET", "HOME", "PATH"]);
  const env = { POP_TEST_GRANTED: "yes", POP_TEST_SECRET: "hidden", HOME: "/root" };
  const seen = (...more: string[]) =>
    pop(["call", "vault.env.seen", "--args", NAMES, "--plugins", PLAIN, "--isolate", "vault=process", "--json", ...more], { env });

  test("the child sees the variables granted and no other", async () => {
    const none = await seen();
    expect(JSON.parse(none.stdout)).toEqual({ POP_TEST_GRANTED: null, POP_TEST_SECRET: null, HOME: null, PATH: null });
    const r = await seen("--isolate-env", "vault=POP_TEST_GRANTED,PATH");
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual({ POP_TEST_GRANTED: "yes", POP_TEST_SECRET: null, HOME: null, PATH: process.env.PATH });
    expect(r.code).toBe(0);
    // Given more than once, the names add up.
    const twice = await seen("--isolate-env", "vault=POP_TEST_GRANTED", "--isolate-env", "vault=HOME");
    expect(JSON.parse(twice.stdout)).toEqual({ POP_TEST_GRANTED: "yes", POP_TEST_SECRET: null, HOME: "/root", PATH: null });
  }, 30_000);

  test.skipIf(process.platform !== "linux")(
    "a child over the --isolate-memory limit is killed with the manifest's clear error",
    async () => {
      const r = await pop(["call", "vault.env.grow", "--args", "[16]", "--plugins", PLAIN, "--isolate", "vault=process", "--isolate-memory", "vault=150"]);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(
        /^pop: "vault\.env\.grow" failed: sub "vault" \(process\): the process went over its memory limit of 150 MiB \(resident \d+ MiB\) and was killed while "vault\.env\.grow" was running; the next call starts a fresh one\n$/,
      );
      expect(r.code).toBe(1);
    },
    30_000,
  );

  const HINT = 'run "pop call --help" for usage\n';
  test.each([
    [
      ["--isolate-env", "vault=HOME"],
      'pop: invalid value for option --isolate-env: "vault=HOME": sub "vault" is not given --isolate vault=process on this command line, and only a process-isolated sub is granted an environment or a memory limit; add --isolate vault=process\n',
    ],
    [
      ["--isolate", "vault=worker", "--isolate-memory", "vault=100"],
      'pop: invalid value for option --isolate-memory: "vault=100": sub "vault" runs in a worker (--isolate vault=worker), which shares pop\'s environment and memory; use --isolate vault=process\n',
    ],
    [
      ["--isolate", "vault=process", "--isolate-env", "vault=PATH,1BAD"],
      'pop: invalid value for option --isolate-env: "vault=PATH,1BAD": "1BAD" is not an environment variable name; give names separated by commas, e.g. --isolate-env vault=PATH,HOME\n',
    ],
    [
      ["--isolate", "vault=process", "--isolate-env", "vault"],
      'pop: invalid value for option --isolate-env: "vault" is not SUB=VARS with SUB a sub name, e.g. --isolate-env vault=PATH,HOME\n',
    ],
    ...["abc", "0", "1.5", "-4"].map((v) => [
      ["--isolate", "vault=process", "--isolate-memory", `vault=${v}`],
      `pop: invalid value for option --isolate-memory: "vault=${v}": "${v}" is not a whole number of MiB above 0; give e.g. --isolate-memory vault=256\n`,
    ]),
    [
      ["--isolate", "vault=process", "--isolate-memory", "vault=100", "--isolate-memory", "vault=200"],
      'pop: sub "vault" is given two memory limits (--isolate-memory vault=100 and --isolate-memory vault=200); give one\n',
    ],
  ])("pop call %j: a usage error naming the option and the value", async (argv, stderr) => {
    expect(await pop(["call", "vault.env.seen", "--plugins", PLAIN, ...argv])).toEqual({ code: 2, stdout: "", stderr: stderr + HINT });
  });
});
