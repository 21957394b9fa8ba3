// Template `contract`: a module SUB/NAME and its contract (pre, call and post, and a schema contract), with the test.
import type { CreateContext, Hub, TemplateOutput } from "pop";
import { UsageError } from "../../src/hub/_internal.ts";
import { addSub, shellWord, subDir, testHeader } from "./_common.ts";

export const description = "A module SUB/NAME with its contract SUB/contracts/NAME.ts: pre, call, post and a schema contract, with its test";
export const target = "project";
export const ref = "sub/name";

/** SUB/NAME.ts, SUB/contracts/NAME.ts and test/SUB-NAME.test.ts. */
export function render(_hub: Hub, ctx: CreateContext): TemplateOutput {
  const here = shellWord(ctx.where);
  const sub = ctx.sub!;
  const n = ctx.name;
  const dir = subDir(ctx.dyne, sub);
  // The module may be the user's own code, whether or not a contract file exists too: never replaced, even with --force.
  if (ctx.exists(`${dir}/${n}.ts`))
    throw new UsageError(
      `${dir}/${n}.ts exists: this template writes a new module with its contract; for a module you have, write ${dir}/contracts/${n}.ts by hand (docs/plugins.md, Contracts), or pick another NAME`,
      "pop create",
      { hint: false },
    );
  return {
    files: {
      [`${dir}/${n}.ts`]: `import type { Hub } from "pop";

/** value times by. Callers may send numbers as text ("3", from a command line or HTTP): the contract in
 * contracts/${n}.ts checks and coerces the argument before this runs, and rounds the result. */
export function scale(hub: Hub, { value, by = 2 }: { value: number | string; by?: number | string }): number {
  return Number(value) * Number(by);
}
`,
      [`${dir}/contracts/${n}.ts`]: `import { type ContractContext, type Hub, z } from "pop";

// The contract of module ${sub}.${n}: it wraps every call of the module's functions (docs/plugins.md, Contracts).
// Order: the schema checks the argument, pre runs, call (or the function), post, the schema checks the result.

/** Schema contract of scale: the argument is checked and coerced ("3" becomes 3), and so is the result. */
export const schema_scale = {
  arg: z.object({ value: z.coerce.number(), by: z.coerce.number().default(2) }),
  ret: z.number(),
};

/** Before scale: refuse what it must never see (a throw refuses the call). */
export function pre_scale(hub: Hub, ctx: ContractContext): void {
  const { by } = ctx.args[0] as { by: number };
  if (by === 0) throw new Error("scaling by 0 is refused: it loses the value");
}

/** Instead of every call of the module (one call contract applies): count it, then make the call itself. */
export function call(hub: Hub, ctx: ContractContext): unknown {
  hub.${sub}.CALLS = (hub.${sub}.CALLS ?? 0) + 1;
  return ctx.func(hub, ...ctx.args);
}

/** After scale: round to two decimals (a value other than undefined replaces the result). */
export function post_scale(hub: Hub, ctx: ContractContext): number {
  return Math.round((ctx.ret as number) * 100) / 100;
}
`,
      [`test/${sub}-${n}.test.ts`]: `${testHeader("", "mockHub, testHub")}${addSub(sub)}
test("the schema contract coerces the argument and fills its default", async () => {
  expect(hub.${sub}.${n}.scale({ value: "3" })).toBe(6);
  expect(() => hub.${sub}.${n}.scale({ value: "abc" })).toThrow("value");
  // What scale itself receives: a stand-in run inside the real contracts records it (.received).
  const m = await mockHub(hub, { contracts: true });
  m.${sub}.${n}.scale.returns(0);
  m.${sub}.${n}.scale({ value: "3" });
  expect(m.${sub}.${n}.scale.received).toEqual([[{ value: 3, by: 2 }]]);
});

test("pre refuses, post rounds, call counts", () => {
  const before = hub.${sub}.CALLS ?? 0;
  expect(() => hub.${sub}.${n}.scale({ value: 1, by: 0 })).toThrow("scaling by 0 is refused");
  expect(() => hub.${sub}.${n}.scale({ value: 1, by: "0" })).toThrow("scaling by 0 is refused"); // coerced before pre runs
  expect(hub.${sub}.${n}.scale({ value: 1 / 3, by: 1 })).toBe(0.33);
  expect(hub.${sub}.CALLS).toBe(before + 1);
});
`,
    },
    dyne: { [sub]: [dir] },
    next: [`pop call ${sub}.${n}.scale value=3 --plugins ${here}`, `pop test ${here}`],
  };
}
