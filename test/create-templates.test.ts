// Every built-in template, generated through the binary into a fresh project: its example runs (pop call / pop app),
// its tests pass (pop test) and it type-checks (tsc), with no Bun on PATH for the pop steps.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { pop, ROOT, tmp } from "./helpers.ts";

const NO_BUN = { PATH: "/usr/bin:/bin" };
const TSC = join(ROOT, "node_modules/.bin/tsc");

/** A new project `shop` in a temp folder, with `args` created into it. */
async function project(...more: string[][]): Promise<string> {
  const cwd = tmp();
  const r = await pop(["create", "project", "shop"], { cwd });
  expect(r.code).toBe(0);
  for (const args of more) {
    const m = await pop(["create", ...args, "--in", "shop"], { cwd });
    expect(m.stderr).toBe("");
    expect(m.code).toBe(0);
  }
  return join(cwd, "shop");
}

async function tsc(dir: string): Promise<{ code: number; out: string }> {
  const proc = Bun.spawn([TSC, "--noEmit", "-p", dir], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, out: out + err };
}

/** Each template, the example call that shows it works, and what that call prints. */
const CASES: Array<{ name: string; args: string[]; call: string[]; prints: string }> = [
  { name: "sub spine", args: ["sub", "flow", "--pattern", "spine"], call: ["flow.init.run", "text=a b"], prints: "A B" },
  { name: "sub library", args: ["sub", "strings", "--pattern", "library"], call: ["strings.text.slug", "text=Hello World"], prints: "hello-world" },
  {
    name: "sub router",
    args: ["sub", "api", "--pattern", "router"],
    call: ["api.init.route", "ref=greet.hello", 'kwargs={"name":"pop"}'],
    prints: "hello, pop",
  },
  { name: "sub driver", args: ["sub", "store", "--pattern", "driver"], call: ["store.init.get", "key=nothing", "--json"], prints: "null" },
  { name: "sub dispatch", args: ["sub", "events", "--pattern", "dispatch"], call: ["events.init.handle", "kind=created", "id=7"], prints: "created 7" },
  {
    name: "sub map",
    args: ["sub", "probes", "--pattern", "map"],
    call: ["probes.init.report", "--json"],
    prints: JSON.stringify({ counter: 1, platform: process.platform, remote: "error: remote source unreachable" }, null, 2),
  },
  { name: "plugin", args: ["plugin", "calc/stats"], call: ["calc.stats.hello", "name=pop"], prints: "hello, pop, from calc.stats" },
  { name: "contract", args: ["contract", "calc/money"], call: ["calc.money.scale", "value=3"], prints: "6" },
  {
    name: "service-type",
    args: ["service-type", "greeter"],
    call: ["service.greeter.command", "--args", '[{"name":"hi","type":"greeter","settings":{"port":8090},"machineId":"m","dir":"/tmp"}]', "--json"],
    prints: "BUN_BE_BUN",
  },
];

describe("the project template", () => {
  test("pop test passes on it as written, with no Bun on PATH", async () => {
    const dir = await project();
    const r = await pop(["test", dir], { env: NO_BUN });
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).toContain(" 0 fail");
  }, 60_000);

  test("it type-checks with tsc as written", async () => {
    const r = await tsc(await project());
    expect(r.out).toBe("");
    expect(r.code).toBe(0);
  }, 60_000);

  test("a wrong argument type in a plugin is a type error (the hub is typed, not any)", async () => {
    const dir = await project();
    await Bun.write(
      join(dir, "calc/bad.ts"),
      'import type { Hub } from "pop";\nexport function f(hub: Hub): number {\n  return hub.calc.math.fib({ num: "eleven" });\n}\n',
    );
    expect((await pop(["types", dir])).code).toBe(0);
    const r = await tsc(dir);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain("calc/bad.ts");
  }, 60_000);
});

describe("a project named like the example sub", () => {
  test("pop create project calc: its library sub is numbers, and it runs, passes its tests and type-checks", async () => {
    const cwd = tmp();
    const r = await pop(["create", "project", "calc"], { cwd });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const dir = join(cwd, "calc");
    expect(await Bun.file(join(dir, "conf.ts")).text()).toContain('export const DYNE = { calc: ["calc"], numbers: ["numbers"] };');
    expect(await Bun.file(join(dir, "numbers/math.ts")).exists()).toBe(true);
    expect(await Bun.file(join(dir, "calc/math.ts")).exists()).toBe(false);
    expect(await pop(["app", "calc"], { cwd, env: NO_BUN })).toEqual({ stdout: "Hello from calc: fib(10) = 55\n", stderr: "", code: 0 });
    const t = await pop(["test", "calc"], { cwd, env: NO_BUN });
    expect(t.code).toBe(0);
    expect(t.stdout + t.stderr).toContain(" 0 fail");
    const c = await tsc(dir);
    expect(c.out).toBe("");
    expect(c.code).toBe(0);
  }, 60_000);
});

describe("every template", () => {
  for (const c of CASES) {
    test(`${c.name}: its example runs through pop call, and pop app still runs`, async () => {
      const dir = await project(c.args);
      const r = await pop(["call", ...c.call, "--plugins", dir], { env: NO_BUN });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      if (c.name === "service-type") expect(r.stdout).toContain(c.prints);
      else expect(r.stdout).toBe(`${c.prints}\n`);
      expect((await pop(["app", dir], { env: NO_BUN })).stdout).toBe("Hello from shop: fib(10) = 55\n");
    }, 30_000);

    test(`${c.name}: the project type-checks as pop create left it, and pop test passes with no Bun on PATH`, async () => {
      const dir = await project(c.args);
      // tsc first: pop test rewrites .pop/, which would hide types pop create left stale (a sub just added to DYNE).
      const t = await tsc(dir);
      expect(t.out).toBe("");
      expect(t.code).toBe(0);
      const r = await pop(["test", dir], { env: NO_BUN });
      expect(r.code).toBe(0);
      expect(r.stdout + r.stderr).toContain(" 0 fail");
    }, 60_000);
  }

  test("all of them in one project together", async () => {
    const dir = await project(...CASES.map((c) => c.args));
    const r = await pop(["test", dir], { env: NO_BUN });
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).toContain(" 0 fail");
  }, 120_000);
});

describe("a template's test tests its pattern", () => {
  test("contract: with a schema that checks but does not coerce, its test fails (scale's own Number() would hide it)", async () => {
    const dir = await project(["contract", "calc/money"]);
    const file = join(dir, "calc/contracts/money.ts");
    const text = await Bun.file(file).text();
    const loose = text
      .replace("value: z.coerce.number()", "value: z.union([z.number(), z.string()])")
      .replace("by: z.coerce.number()", "by: z.union([z.number(), z.string()])");
    expect(loose).not.toBe(text);
    await Bun.write(file, loose);
    const r = await pop(["test", dir, "--", "test/calc-money.test.ts"], { env: NO_BUN });
    expect(r.stdout + r.stderr).toContain("(fail) the schema contract coerces the argument and fills its default");
    expect(r.stdout + r.stderr).toContain("(fail) pre refuses, post rounds, call counts");
    expect(r.code).toBe(1);
  }, 60_000);
});
