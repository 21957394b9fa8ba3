// `pop tree`: every sub, module and function (parameters and doc), the contracts applied, what was not loaded and why; text and --json.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { pop, POP, ROOT, tmp, writeTree } from "./helpers.ts";

const CONTRACTS = join(ROOT, "test/fixtures/hub/contracts");
const C = "test/fixtures/hub/contracts";

describe("text", () => {
  test("subs with their folders, modules with file and contracts, functions with parameters and doc; sub-subs indented", async () => {
    const r = await pop(["tree", "--plugins", CONTRACTS]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines).toContain(`calc  ${C}/calc`);
    expect(lines).toContain(`  ops  ${C}/calc/ops.ts  contracts: ${C}/calc/contracts/ops.ts, ${C}/calc/contracts/init.ts, ${C}/calc/rcontracts/trace.ts`);
    expect(lines).toContain("    add({ a, b }: { a: number; b: number })  a + b.");
    expect(lines).toContain("    scale(factor: number, values: number[])  Positional arguments, each with its own schema.");
    expect(lines).toContain(
      "    trace({ ref, args = [] }: { ref: string; args?: unknown[] })  Call a ref with args, returning its result (or error message) and the contract trace.",
    );
    expect(lines).toContain(`  calc.child  ${C}/calc/child`);
    expect(lines).toContain(`    leaf  ${C}/calc/child/leaf.ts  contracts: ${C}/calc/rcontracts/trace.ts`);
    expect(lines).toContain("      hi()  In a sub-sub: rcontracts of calc apply, calc's contracts/ do not.");
    expect(lines).toContain(
      `  ✗ circle  ${C}/shapes/circle.ts  not loaded (failed): missing function "area" required by ${C}/shapes/contracts/init.ts: export it from ${C}/shapes/circle.ts`,
    );
  });

  test("a sub's init module comes first, then modules by name", async () => {
    const r = await pop(["tree", "--plugins", CONTRACTS]);
    const calc = r.stdout
      .split("\n")
      .filter((l) => /^  \S/.test(l) && l.includes(`${C}/calc/`))
      .map((l) => l.trim().split(" ")[0]);
    expect(calc).toEqual(["init", "extra", "ops", "typed", "calc.child"]);
  });

  test("the built-in pop sub is listed, with its functions' parameters and docs", async () => {
    const r = await pop(["tree"], { cwd: tmp() });
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toBe("pop  (built in)");
    expect(lines).toContain("  ref  plugins/pop/ref.ts");
    expect(lines.find((l) => l.startsWith("    last("))).toStartWith("    last(ref: string)  The object a ref names");
    for (const fn of ["driver(", "dispatch(", "map(", "first(", "add(", "load(", "failures("]) expect(r.stdout).toContain(`    ${fn}`);
  });
});

describe("--json", () => {
  test("the same data, with each function's ref, line and contracts", async () => {
    const r = await pop(["tree", "--plugins", CONTRACTS, "--json"]);
    const data = JSON.parse(r.stdout);
    const calc = data.subs.find((s: { name: string }) => s.name === "calc");
    expect(calc.dirs).toEqual([`${C}/calc`]);
    const extra = calc.modules.find((m: { name: string }) => m.name === "extra");
    expect(extra).toEqual({
      name: "extra",
      ref: "calc.extra",
      file: `${C}/calc/extra.ts`,
      state: "loaded",
      contracts: [`${C}/calc/contracts/init.ts`, `${C}/calc/contracts/audited.ts`, `${C}/calc/rcontracts/trace.ts`],
      functions: [
        {
          name: "ping",
          ref: "calc.extra.ping",
          contracts: [`${C}/calc/contracts/init.ts`, `${C}/calc/contracts/audited.ts`, `${C}/calc/rcontracts/trace.ts`],
          params: "",
          doc: "Opts into contracts/audited.ts.",
          line: 6,
        },
      ],
    });
    const typed = calc.modules.find((m: { name: string }) => m.name === "typed");
    expect(typed.functions.find((f: { name: string }) => f.name === "area").contracts).toContain(`${C}/calc/contracts/typed.ts`);
    expect(calc.subs[0].ref).toBe("calc.child");
  });

  test("modules not loaded carry state, reason and location; failures are listed too", async () => {
    const dir = writeTree(tmp(), {
      "s/bad.ts": "export const x = 1;\nthrow new RangeError('nope');\n",
      "s/off.ts": "export const __virtual__ = () => 'not today';",
    });
    const r = await pop(["tree", "--plugins", dir, "--json"], { cwd: dir });
    const data = JSON.parse(r.stdout);
    const mods = data.subs.find((s: { name: string }) => s.name === "s").modules;
    expect(mods[0]).toMatchObject({
      name: "bad",
      file: "s/bad.ts",
      state: "failed",
      reason: "threw RangeError: nope",
      location: expect.stringMatching(/^s\/bad\.ts:2:\d+$/),
      functions: [],
    });
    expect(mods[1]).toMatchObject({ name: "off", state: "virtual", reason: "not today", location: "s/off.ts" });
    expect(data.failures).toEqual([{ ref: "s.bad", file: "s/bad.ts", line: 2, column: expect.any(Number), reason: "threw RangeError: nope" }]);
  });

  test("files outside the working directory keep their absolute path", async () => {
    const dir = writeTree(tmp(), { "s/a.ts": "export function f(hub) {}" });
    const data = JSON.parse((await pop(["tree", "--plugins", dir, "--json"], { cwd: tmp() })).stdout);
    expect(data.subs.find((s: { name: string }) => s.name === "s").modules[0].file).toBe(join(dir, "s/a.ts"));
  });
});

describe("large output", () => {
  /** A root with 400 modules of 3 documented functions: several times a pipe's 64 KiB buffer. */
  function bigRoot(): string {
    const files: Record<string, string> = {};
    for (let i = 0; i < 400; i++) {
      files[`big/m${i}.ts`] = [0, 1, 2]
        .map((j) => `/** Function ${j} of module ${i}, documented. */\nexport function f${j}(hub, { x, y }: { x: number; y: string }) { return x; }\n`)
        .join("");
    }
    return writeTree(tmp(), files);
  }

  test("a large pop tree --json arrives whole through a pipe (no truncation at exit)", async () => {
    const dir = bigRoot();
    const direct = await pop(["tree", "--plugins", dir, "--json"]);
    expect(direct.code).toBe(0);
    expect(direct.stdout.length).toBeGreaterThan(256 * 1024);
    const big = JSON.parse(direct.stdout).subs.find((s: { name: string }) => s.name === "big");
    expect(big.modules).toHaveLength(400);
    const proc = Bun.spawn(["sh", "-c", '"$POP" tree --plugins "$DIR" --json | cat'], {
      env: { ...process.env, POP, DIR: dir, NO_COLOR: "1" },
      stdout: "pipe",
      stderr: "pipe",
    });
    const piped = await new Response(proc.stdout).text();
    expect(await proc.exited).toBe(0);
    expect(piped).toBe(direct.stdout);
  });

  test("a large text tree arrives whole through a pipe", async () => {
    const dir = bigRoot();
    const proc = Bun.spawn(["sh", "-c", '"$POP" tree --plugins "$DIR" | cat'], { env: { ...process.env, POP, DIR: dir, NO_COLOR: "1" }, stdout: "pipe" });
    const text = await new Response(proc.stdout).text();
    expect(await proc.exited).toBe(0);
    expect(text.split("\n").filter((l) => /^    f\d\(.*  Function \d of module \d+, documented\.$/.test(l))).toHaveLength(1200);
    expect(text.trimEnd().split("\n").at(-1)).toStartWith("    f2(");
  });
});
