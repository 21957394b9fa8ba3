// `no sub "x"` through the binary: when a folder of that name is there, the error says why it is not a sub and how to make it one.
import { describe, expect, test } from "bun:test";
import { pop, tmp, writeTree } from "./helpers.ts";

const SLUG = 'export function slug(hub: any) { return "s"; }\n';

function project(): string {
  return writeTree(tmp(), {
    "conf.ts": 'export const DYNE = { calc: ["calc"], work: ["queue"] };\n',
    "calc/math.ts": "export function one(hub: any) { return 1; }\n",
    "jobs/text.ts": SLUG,
    "queue/text.ts": SLUG,
    "r/tests/text.ts": SLUG,
    "r/_hidden/text.ts": SLUG,
    "r/ok/text.ts": SLUG,
  });
}

describe('no sub "x" when a folder x exists', () => {
  test("a folder DYNE does not list: add it to DYNE", async () => {
    const dir = project();
    const r = await pop(["call", "jobs.text.slug", "--plugins", "."], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      'pop: no sub "jobs" in "jobs.text.slug": folder ./jobs is not a sub because DYNE in ./conf.ts does not list it: add jobs: ["jobs"] to DYNE there\n',
    );
    const ok = await pop(["call", "calc.math.one", "--plugins", "."], { cwd: dir });
    expect({ code: ok.code, stdout: ok.stdout }).toEqual({ code: 0, stdout: "1\n" });
  });

  test("a folder DYNE gives another name: use that name", async () => {
    const r = await pop(["call", "queue.text.slug", "--plugins", "."], { cwd: project() });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('pop: no sub "queue" in "queue.text.slug": folder ./queue is the sub "work" (so DYNE names it); use "work" in the ref\n');
  });

  test("a folder in the working directory that is no plugin root: pass --plugins .", async () => {
    const r = await pop(["call", "calc.math.one"], { cwd: project() });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'pop: no sub "calc" in "calc.math.one": folder ./calc is here, but this folder is not a plugin root of the hub: pass --plugins . (or add it to POP_PLUGIN_PATH)\n',
    );
  });

  test("a folder whose name is never a sub: rename it", async () => {
    const dir = project();
    for (const name of ["tests", "_hidden"]) {
      const r = await pop(["call", `${name}.text.slug`, "--plugins", "r"], { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(
        `pop: no sub "${name}" in "${name}.text.slug": folder ./r/${name} is not a sub: folders named contracts, rcontracts, node_modules, test, tests or starting with "_" or "." never are; rename it\n`,
      );
    }
  });

  test("no folder of that name: the error is as before, suggestion included", async () => {
    const dir = project();
    const near = await pop(["call", "okk.text.slug", "--plugins", "r"], { cwd: dir });
    expect(near.stderr).toBe('pop: no sub "okk" in "okk.text.slug"; did you mean "ok.text.slug"?\n');
    const far = await pop(["call", "zzzzzz.text.slug", "--plugins", "r"], { cwd: dir });
    expect(far.stderr).toBe('pop: no sub "zzzzzz" in "zzzzzz.text.slug"; run "pop tree" to list what the hub holds\n');
    expect(far.code).toBe(2);
  });
});
