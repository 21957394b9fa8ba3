// Template `sub`: a sub following one of POP's and stevedore's patterns, with a working example and its test.
import type { CreateContext, Hub, TemplateOutput } from "pop";
import { shellWord, subDir } from "./_common.ts";
import { driver, map } from "./_driver.ts";
import { dispatch, router } from "./_router.ts";
import { library, spine } from "./_spine.ts";

export const description = "A sub following a pattern (--pattern spine|library|router|driver|dispatch|map), with an example and its test";
export const target = "project";
export const patterns = ["spine", "library", "router", "driver", "dispatch", "map"];

const PATTERNS: Record<string, (name: string, dir: string) => Record<string, string>> = { spine, library, router, driver, dispatch, map };

/** A call that shows each pattern at work (what `pop create` prints next). */
const TRY: Record<string, string> = {
  spine: `init.run text="hello world"`,
  library: `text.slug text="Hello World"`,
  router: `init.route ref=greet.hello 'kwargs={"name":"pop"}'`,
  driver: `init.get key=a --json`,
  dispatch: `init.handle kind=created id=7`,
  map: `init.report --json`,
};

/** The sub's files, in folder NAME of the project (listed in DYNE when the project has one). */
export function render(_hub: Hub, ctx: CreateContext): TemplateOutput {
  const here = shellWord(ctx.where);
  const make = PATTERNS[ctx.pattern ?? ""];
  if (!make) throw new Error(`no pattern ${JSON.stringify(ctx.pattern)}: choose from ${patterns.join(", ")}`);
  // A sub DYNE already lists may be in another folder (calc: ["lib/calc"]): its modules go there, or the hub never sees them.
  const dir = subDir(ctx.dyne, ctx.name);
  const there = Object.hasOwn(ctx.dyne ?? {}, ctx.name) || ctx.exists(dir);
  const files = make(ctx.name, dir);
  // A second pattern into one sub (library, then spine): its test goes beside the first one's, not over it.
  const test = `test/${ctx.name}.test.ts`;
  if (there && ctx.exists(test) && files[test] !== undefined) {
    files[`test/${ctx.name}-${ctx.pattern}.test.ts`] = files[test];
    delete files[test];
  }
  return {
    files,
    dyne: { [ctx.name]: [dir] },
    ...(there ? { notes: [`adding to the existing sub ${ctx.name} (its other modules stay as they are)`] } : {}),
    next: [`pop call ${ctx.name}.${TRY[ctx.pattern!]} --plugins ${here}`, `pop test ${here}`],
  };
}
