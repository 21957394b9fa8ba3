// Sub-subs of an isolated sub (rpc/admin/x.ts as hub.rpc.admin.x) through the compiled executable, both modes: a call
// crosses like any other and answers as in-process; `pop tree` shows the nested sub, its folders and the contracts the
// side applies, marked as applied there. An in-process unit test checks the host's stand-in tree.
import { describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { pop } from "./helpers.ts";
import { closeHub, createHub, inspectHub } from "../src/hub/index.ts";
import { isolateSub } from "../src/isolate/index.ts";

const NESTED = resolve(import.meta.dir, "fixtures/isolate/nested");
const RPC = resolve(NESTED, "rpc");

describe.each(["worker", "process"] as const)("a sub-sub of a sub isolated in a %s", (mode) => {
  test("pop call rpc.admin.x.f answers as in-process, its own and its parent's contracts applied on the side", async () => {
    const args = ["call", "rpc.admin.x.f", "--args", "[3]", "--plugins", NESTED, "--json"];
    const inProcess = await pop(args);
    const isolated = await pop([...args, "--isolate", `rpc=${mode}`]);
    expect(inProcess).toEqual({ stdout: inProcess.stdout, stderr: "", code: 0 });
    expect(JSON.parse(inProcess.stdout)).toEqual({ twice: 6, n: 3, checked: true });
    expect(isolated).toEqual(inProcess);
    // The parent's contract (pre_twice), reached by the sub-sub's call on the side, refuses as in-process.
    const refused = await pop(["call", "rpc.admin.x.f", "--args", "[-1]", "--plugins", NESTED, "--isolate", `rpc=${mode}`]);
    expect(refused.stderr).toContain("no negative numbers");
    expect(refused.code).toBe(1);
  }, 30_000);

  test("pop tree shows the nested sub, the folders and the contracts, applied on the isolated side", async () => {
    const text = await pop(["tree", "--plugins", NESTED, "--isolate", `rpc=${mode}`], { cwd: NESTED, env: { NO_COLOR: "1" } });
    expect(text.code).toBe(0);
    expect(text.stderr).toBe("");
    const rpc = text.stdout.slice(text.stdout.indexOf("\nrpc "));
    expect(rpc).toBe(
      [
        "",
        `rpc  isolated (${mode}): rpc`,
        `  math  rpc/math.ts  contracts (applied in the isolated ${mode}): rpc/contracts/math.ts`,
        "    twice(n: number)  Twice the number given.",
        `  rpc.admin  isolated (${mode}): rpc/admin`,
        `    x  rpc/admin/x.ts  contracts (applied in the isolated ${mode}): rpc/admin/contracts/x.ts`,
        "      f(n = 1)  Twice `n`, from the sub's own math module (a call on the side that loads this sub-sub).",
      ].join("\n") + "\n",
    );
    const json = await pop(["tree", "--plugins", NESTED, "--isolate", `rpc=${mode}`, "--json"], { cwd: NESTED });
    expect(json.code).toBe(0);
    const sub = JSON.parse(json.stdout).subs.find((s: { name: string }) => s.name === "rpc");
    expect(sub.dirs).toEqual(["rpc"]);
    expect(sub.placed).toBe(`isolated (${mode})`);
    expect(sub.modules[0]).toMatchObject({ ref: "rpc.math", contracts: ["rpc/contracts/math.ts"], contractsOn: `isolated ${mode}` });
    expect(sub.modules[0].functions[0]).toMatchObject({ ref: "rpc.math.twice", contracts: ["rpc/contracts/math.ts"] });
    expect(sub.subs).toHaveLength(1);
    expect(sub.subs[0]).toMatchObject({ ref: "rpc.admin", dirs: ["rpc/admin"], placed: `isolated (${mode})` });
    expect(sub.subs[0].modules[0]).toMatchObject({
      ref: "rpc.admin.x",
      state: "loaded",
      contracts: ["rpc/admin/contracts/x.ts"],
      contractsOn: `isolated ${mode}`,
    });
    expect(sub.subs[0].modules[0].functions.map((f: { ref: string; contracts: string[] }) => [f.ref, f.contracts])).toEqual([
      ["rpc.admin.x.f", ["rpc/admin/contracts/x.ts"]],
    ]);
    // In-process, the same tree has no marks: only where it runs differs.
    const plain = JSON.parse((await pop(["tree", "--plugins", NESTED, "--json"], { cwd: NESTED })).stdout).subs.find((s: { name: string }) => s.name === "rpc");
    const unmark = (s: any): any => ({
      ...s,
      placed: undefined,
      modules: s.modules.map((m: any) => ({ ...m, contractsOn: undefined })),
      subs: s.subs.map(unmark),
    });
    expect(JSON.parse(JSON.stringify(unmark(sub)))).toEqual(plain);
  }, 30_000);
});

test("isolateSub mirrors the side's sub-subs as nested subs of the hub, each function a call on the side", async () => {
  const hub = createHub({ warn: () => {} });
  try {
    await isolateSub(hub, "rpc", { mode: "worker", folders: [RPC], source: "test" });
    expect(Object.keys(hub.rpc)).toEqual(["admin"]);
    expect(await hub.rpc.admin.x.f(5)).toEqual({ twice: 10, n: 5, checked: true });
    const view = inspectHub(hub).subs.find((s) => s.name === "rpc")!;
    expect(view.subs.map((s) => [s.ref, s.dirs])).toEqual([["rpc.admin", [resolve(RPC, "admin")]]]);
    expect(hub.rpc.nothere).toBeUndefined();
    // Taking only the sub-sub off leaves the side serving the sub's own modules.
    await hub.pop.sub.remove("rpc.admin");
    expect(hub.rpc.admin).toBeUndefined();
    expect(await hub.rpc.math.twice(4)).toBe(8);
  } finally {
    await closeHub(hub);
  }
}, 30_000);
