// A project's command line from CLI_CONFIG: flag forms, actions, nargs, positionals, choices, subcommands (through dist/pop).
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { pop, ROOT, tmp } from "./helpers.ts";

const SHOP = join(ROOT, "test/fixtures/config/shop");
const TASKS = join(ROOT, "test/fixtures/config/tasks");

async function shop(args: string[]) {
  const r = await pop(["config", "show", SHOP, "--json", ...args], { cwd: tmp(), env: { NODE_ENV: undefined } });
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout).shop;
}

async function refused(dir: string, args: string[]) {
  const r = await pop(["config", "show", dir, ...args], { cwd: tmp() });
  expect(r.stdout).toBe("");
  expect(r.code).toBe(2);
  return r.stderr;
}

describe("flag forms", () => {
  test("--port 1, --port=1, -p 1, -p1, -p=1", async () => {
    for (const args of [["--port", "1"], ["--port=1"], ["-p", "1"], ["-p1"], ["-p=1"]]) expect((await shop(args)).port).toBe(1);
  });

  test("a long name with _ takes dashes (--api-key) and also the name as written (--api_key)", async () => {
    expect((await shop(["--api-key", "k1", "--explain"])).api_key).toEqual({
      value: "<hidden>",
      source: "from --api-key",
      origin: { kind: "cli", flag: "--api-key" },
    });
    expect((await shop(["--api_key", "k2", "--explain"])).api_key.source).toBe("from --api_key");
  });

  test("switches: --debug sets true, --no-debug false; a value is refused", async () => {
    expect((await shop(["--debug"])).debug).toBe(true);
    expect((await shop(["--debug", "--no-debug"])).debug).toBe(false);
    expect(await refused(SHOP, ["--debug=yes"])).toStartWith("pop: option --debug is a switch and takes no value\n");
  });

  test("count: -v -v, -vv, --verbose -vvv", async () => {
    expect((await shop(["-v", "-v"])).verbose).toBe(2);
    expect((await shop(["-vv"])).verbose).toBe(2);
    expect((await shop(["--verbose", "-vvv"])).verbose).toBe(4);
  });

  test("short switches combine: -vvt tag", async () => {
    const o = await shop(["-vvt", "x"]);
    expect([o.verbose, o.tag]).toEqual([2, ["x"]]);
  });

  test("append: repeated -t collects a list", async () => {
    expect((await shop(["-t", "a", "--tag", "b", "-tc"])).tag).toEqual(["a", "b", "c"]);
  });

  test('positionals with nargs "*", and "--" ending options', async () => {
    expect((await shop(["a.csv", "-v", "b.csv"])).files).toEqual(["a.csv", "b.csv"]);
    expect((await shop(["--", "-odd.csv"])).files).toEqual(["-odd.csv"]);
  });

  test("a value that looks like a negative number is a value", async () => {
    expect(await refused(SHOP, ["--port", "-5"])).toStartWith('pop: invalid value for option "port" from --port: "-5" is invalid: too small');
  });

  test("an unknown short flag, and one inside a group", async () => {
    expect(await refused(SHOP, ["-x"])).toStartWith('pop: unknown option "-x"\n');
    expect(await refused(SHOP, ["-vx"])).toStartWith('pop: unknown option "-x" in "-vx"\n');
  });
});

describe("subcommands", () => {
  const tasks = async (args: string[]) => {
    const r = await pop(["app", TASKS, ...args], { cwd: tmp() });
    return { ...r, json: r.stdout ? JSON.parse(r.stdout) : undefined };
  };

  test("the subcommand comes back from load; its options and positionals are taken after it", async () => {
    const r = await tasks(["run", "build", "--force", "x", "y", "-w", "4"]);
    expect(r.stderr).toBe("");
    expect(r.json).toEqual({ subcommand: "run", OPT: { name: "build", args: ["x", "y"], force: true, workers: 4 } });
  });

  test("a _global_ option goes with any subcommand", async () => {
    expect((await tasks(["-w", "2", "list"])).json).toEqual({ subcommand: "list", OPT: { args: [], force: false, workers: 2 } });
  });

  test("an option of another subcommand is refused", async () => {
    const r = await tasks(["list", "--force"]);
    expect(r).toMatchObject({
      stdout: "",
      code: 2,
      stderr: `pop: option --force belongs to subcommand "run", not "list"\nrun "pop app ${TASKS} --help" for the options\n`,
    });
  });

  test("an unknown subcommand names the nearest", async () => {
    const r = await tasks(["rnu"]);
    expect(r).toMatchObject({
      stdout: "",
      code: 2,
      stderr: `pop: unknown subcommand "rnu"; did you mean "run"? (choose from run, list)\nrun "pop app ${TASKS} --help" for the options\n`,
    });
  });

  test("a required positional that is missing", async () => {
    const r = await tasks(["run"]);
    expect(r).toMatchObject({ stdout: "", code: 2, stderr: `pop: missing argument NAME\nrun "pop app ${TASKS} --help" for the options\n` });
  });

  test("a stray argument", async () => {
    const r = await tasks(["list", "extra"]);
    expect(r).toMatchObject({ stdout: "", code: 2, stderr: `pop: unexpected argument "extra"\nrun "pop app ${TASKS} --help" for the options\n` });
  });
});
