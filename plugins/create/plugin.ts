// Template `plugin`: one module of a sub (SUB/NAME), with its test.
import type { CreateContext, Hub, TemplateOutput } from "pop";
import { addSub, shellWord, subDir, testHeader } from "./_common.ts";

export const description = "A plugin module SUB/NAME: one function on the hub (hub.SUB.NAME.hello), with its test";
export const target = "project";
export const ref = "sub/name";

/** SUB/NAME.ts (in the folder DYNE gives SUB, if it does) and test/SUB-NAME.test.ts. */
export function render(_hub: Hub, ctx: CreateContext): TemplateOutput {
  const here = shellWord(ctx.where);
  const sub = ctx.sub!;
  const n = ctx.name;
  const dir = subDir(ctx.dyne, sub);
  return {
    files: {
      [`${dir}/${n}.ts`]: `import type { Hub } from "pop";

/** Say hello: hub.${sub}.${n}.hello({ name: "pop" }). */
export function hello(hub: Hub, { name = "world" }: { name?: string } = {}): string {
  return \`hello, \${name}, from ${sub}.${n}\`;
}
`,
      [`test/${sub}-${n}.test.ts`]: `${testHeader()}${addSub(sub)}
test("${sub}.${n}.hello", () => {
  expect(hub.${sub}.${n}.hello({ name: "pop" })).toBe("hello, pop, from ${sub}.${n}");
  expect(hub.${sub}.${n}.hello()).toBe("hello, world, from ${sub}.${n}");
});
`,
    },
    dyne: { [sub]: [dir] },
    next: [`pop call ${sub}.${n}.hello name=pop --plugins ${here}`, `pop test ${here}`],
  };
}
