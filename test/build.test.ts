// What the build flags promise: a user's folder cannot inject code into pop, and plugins resolve their own packages.
import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pop, ROOT, tmp, writeTree } from "./helpers.ts";

test("a bunfig.toml preload and a .env in the working directory are ignored", async () => {
  const dir = writeTree(tmp(), {
    "bunfig.toml": 'preload = ["./evil.ts"]\n',
    "evil.ts": 'await Bun.write(import.meta.dir + "/PWNED", "x");\n',
    ".env": "POP_INJECTED=yes\n",
    "root/probe/env.ts": 'export function get(hub: unknown) { return process.env.POP_INJECTED ?? "absent"; }\n',
  });
  const r = await pop(["call", "probe.env.get", "--plugins", "root"], { cwd: dir });
  expect(r.stderr).toBe("");
  expect(r.stdout).toBe("absent\n");
  expect(r.code).toBe(0);
  expect(existsSync(join(dir, "PWNED"))).toBe(false);
});

test("a plugin imports a package from its own node_modules", async () => {
  const dir = writeTree(tmp(), {
    "root/node_modules/left-pad-lite/package.json": JSON.stringify({ name: "left-pad-lite", version: "1.0.0", type: "module", exports: "./index.js" }),
    "root/node_modules/left-pad-lite/index.js": "export default function pad(s, n) { return String(s).padStart(n, '0'); }\n",
    "root/package.json": JSON.stringify({ name: "root", type: "module", dependencies: { "left-pad-lite": "1.0.0" } }),
    "root/fmt/num.ts": 'import pad from "left-pad-lite";\nexport function padded(hub: unknown, { n }: { n: number }) { return pad(n, 5); }\n',
  });
  const r = await pop(["call", "fmt.num.padded", "n=42", "--plugins", "root"], { cwd: dir });
  expect(r.stderr).toBe("");
  expect(r.stdout).toBe("00042\n");
  expect(r.code).toBe(0);
});

test('a plugin imports zod and helpers from "pop" with no node_modules anywhere', async () => {
  const dir = writeTree(tmp(), {
    "root/v/check.ts":
      'import { z, RefError } from "pop";\nexport function run(hub: unknown, input: unknown) { return { n: z.object({ n: z.coerce.number() }).parse(input).n * 2, refError: typeof RefError }; }\n',
  });
  const r = await pop(["call", "v.check.run", "n=21", "--plugins", "root", "--json"], { cwd: dir });
  expect(r.stderr).toBe("");
  expect(JSON.parse(r.stdout)).toEqual({ n: 42, refError: "function" });
  expect(r.code).toBe(0);
});

test("bun run build --target builds another platform's executable; an unknown target is a usage error", async () => {
  const out = tmp();
  const run = (args: string[]) => Bun.spawn([process.execPath, "scripts/build.ts", ...args, "--outdir", out], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const bad = run(["--target", "plan9-x64"]);
  const [badErr, badCode] = await Promise.all([new Response(bad.stderr).text(), bad.exited]);
  expect(badCode).toBe(2);
  expect(badErr).toContain('unknown target "plan9-x64"');
  const ok = run(["--target", "linux-arm64"]);
  const [okErr, okCode] = await Promise.all([new Response(ok.stderr).text(), ok.exited]);
  expect(okCode, okErr).toBe(0);
  const head = new Uint8Array(await Bun.file(join(out, "pop-linux-arm64")).slice(0, 20).arrayBuffer());
  expect([...head.slice(0, 4)]).toEqual([0x7f, 0x45, 0x4c, 0x46]); // ELF
  expect(head[18]! | (head[19]! << 8)).toBe(0xb7); // e_machine: AArch64
}, 120_000);

// Start-up guard (docs/benchmarks.md, issue 7 figure 4): in a compiled Bun the first regex a process runs costs ~0.15 ms,
// so `pop --version` and a plain `pop call` compile none. JSC lists every regex it compiles under
// BUN_JSC_dumpCompiledRegExpPatterns=1; the error path below, which does compile one, shows the listing works.
test("pop --version and a plain pop call compile no regex; an error message does", async () => {
  const dir = writeTree(tmp(), { "root/calc/math.ts": "export function add(hub: unknown, x: number, y: number) { return x + y; }\n" });
  const env = { BUN_JSC_dumpCompiledRegExpPatterns: "1" };
  const version = await pop(["--version"], { env });
  expect(version.code).toBe(0);
  expect(version.stderr).not.toContain("RegExp pattern");
  const call = await pop(["call", "calc.math.add", "--args", "[1, 2]", "--plugins", "root"], { cwd: dir, env });
  expect(call.stdout.trim()).toBe("3");
  expect(call.code).toBe(0);
  expect(call.stderr).not.toContain("RegExp pattern");
  const wrong = await pop(["nosuch\u0001"], { env });
  expect(wrong.code).toBe(2);
  expect(wrong.stderr).toContain("RegExp pattern");
});
