// Where `pop call`'s time goes (POP_BENCH_STEPS=1 bun run bench:hub): the minimal program with pop's steps added one
// by one, each compiled the way dist/pop is, timed as fresh copies, interleaved round by round, medians.
import { join, resolve } from "node:path";
import { compile, FLOOR_BODY, FLOOR_HEAD, freshCopy, median, timeCommand } from "./_util.ts";

const SRC = resolve(import.meta.dir, "../../src");
const HUB = `import * as hubApi from ${JSON.stringify(join(SRC, "hub/index.ts"))};\n`;
const OPTS = "{ plugins: [root], env: process.env, cwd: process.cwd(), strict: false, disable: [] }";

/** Each step adds one thing to the one before it. */
export const STEPS: Array<[string, string]> = [
  ["minimal program: list the root, import, call, print", FLOOR_HEAD + FLOOR_BODY],
  ["+ pop's hub code loaded (src/hub/index.ts imported)", HUB + FLOOR_HEAD + "if (!hubApi.loadHub) throw 0;\n" + FLOOR_BODY],
  ["+ createHub() (built-in pop sub added)", HUB + FLOOR_HEAD + "hubApi.createHub();\n" + FLOOR_BODY],
  [
    "+ discoverRoots (the root's package.json, conf.ts, dyne folders) before createHub",
    HUB + FLOOR_HEAD + `hubApi.createHub({ roots: await hubApi.discoverRoots(${OPTS}) });\n` + FLOOR_BODY,
  ],
  ["+ the rest of loadHub (the sub added lazily, its init probed)", HUB + FLOOR_HEAD + `await hubApi.loadHub(${OPTS});\n` + FLOOR_BODY],
  [
    "+ preloadRef (the module found by probing, imported by the hub: load timeout, exit trap)",
    HUB + FLOOR_HEAD + `const hub = await hubApi.loadHub(${OPTS});\nawait hubApi.preloadRef(hub, ref);\n` + FLOOR_BODY,
  ],
  [
    "+ resolveFunction (the module installed, its functions bound) and the call through it",
    HUB +
      FLOOR_HEAD +
      `const hub = await hubApi.loadHub(${OPTS});\nawait hubApi.preloadRef(hub, ref);\nconsole.log(await hubApi.resolveFunction(hub, ref)(...JSON.parse(args)));\n`,
  ],
  [
    "+ pop call's command itself (src/cli/call.ts run, imported statically; its output module)",
    `import call from ${JSON.stringify(join(SRC, "cli/call.ts"))};\nimport { parseCommandArgs } from ${JSON.stringify(join(SRC, "cli/_args.ts"))};\nimport { flushOutput } from ${JSON.stringify(join(SRC, "output.ts"))};\n` +
      FLOOR_HEAD +
      'const code = await call.run!(parseCommandArgs(call, [ref, "--args", args, "--plugins", root], "pop call"));\nawait flushOutput();\nprocess.exit(code ?? 0);\n',
  ],
  [
    "+ through pop's main() (dispatch; the command loaded by import(), as split chunks)",
    `import { main } from ${JSON.stringify(join(SRC, "cli/index.ts"))};\n` +
      FLOOR_HEAD +
      'process.exit((await main(["call", ref, "--args", args, "--plugins", root])) ?? 0);\n',
  ],
];

/**
 * For reference, not a step: a hub written for this one job (each root folder a sub behind a lazy lookup, the module
 * found by probing its extensions, imported, its functions bound with the hub), what the figure's 1.2x would leave room
 * for. Session 8 measured it at 1.06x the minimal program, pop's hub with no CLI (the resolveFunction step) at 1.27x.
 */
export const IDEAL_HUB =
  FLOOR_HEAD +
  `const names = [...new Bun.Glob("*").scanSync({ cwd: root, onlyFiles: false })];
const hub: Record<string, any> = {};
const loaders: Record<string, (m: string) => Promise<void>> = {};
for (const name of names) {
  if (name.includes(".")) continue;
  const mods: Record<string, unknown> = {};
  hub[name] = new Proxy(mods, { get: (t, k: string) => t[k] });
  loaders[name] = async (m) => {
    for (const ext of [".ts", ".mts", ".js", ".mjs"]) {
      const f = \`\${root}/\${name}/\${m}\${ext}\`;
      if (Bun.file(f).lastModified === 4503599627370495) continue;
      const ns = await import(f);
      const obj: Record<string, unknown> = {};
      for (const k of Object.keys(ns)) obj[k] = typeof ns[k] === "function" ? ns[k].bind(undefined, hub) : ns[k];
      mods[m] = obj;
      return;
    }
  };
}
await loaders[sub!]!(mod!);
console.log(String(await hub[sub!][mod!][fn!](...JSON.parse(args))));
`;

export async function steps(o: { work: string; big: string; pop: string; runs: number }): Promise<void> {
  const exes = STEPS.map(([, src], i) => compile(o.work, `step${i}`, src));
  const cmds: string[][] = [
    ...exes.map((e) => [freshCopy(e, o.work), "gen.m500.a", "[1]", o.big]),
    [freshCopy(o.pop, o.work), "call", "gen.m500.a", "--args", "[1]", "--plugins", o.big],
    [freshCopy(o.pop, o.work), "call", "gen.m500.a", "--args", "[1]", "--plugins", o.big],
    [freshCopy(o.pop, o.work), "--version"],
    [freshCopy(compile(o.work, "ideal-hub", IDEAL_HUB), o.work), "gen.m500.a", "[1]", o.big],
  ];
  // JSC starts a helper thread (JSCWarmUp, which pre-faults heap blocks) once a process has allocated 64 heap blocks
  // (its warmUpMarkedBlockStartAfterBlocks option): the minimal program stays under that, pop call does not.
  const env = (i: number) => (i === cmds.length - 3 ? { BUN_JSC_warmUpMarkedBlockStartAfterBlocks: "100000" } : undefined);
  const names = [
    ...STEPS.map(([n]) => n),
    "pop call (dist/pop: its lean path, src/cli/_lean.ts, which runs none of the steps above)",
    "(the same with JSC's warm-up thread held off, BUN_JSC_warmUpMarkedBlockStartAfterBlocks=100000: what that thread costs)",
    "(pop --version, for reference)",
    "(a hub written for this one job: lazy sub lookup, probe, import, bind; what 1.2x leaves room for)",
  ];
  const times: number[][] = cmds.map(() => []);
  for (let r = 0; r < o.runs + 3; r++) {
    // Round by round, in a rotating order, so drift hits every step alike.
    for (let k = 0; k < cmds.length; k++) {
      const i = (k + r) % cmds.length;
      const e = env(i);
      const t = timeCommand(cmds[i]!, { cwd: o.work, runs: 1, warmup: 0, ...(e ? { env: e } : {}) });
      if (r >= 3) times[i]!.push(t);
    }
  }
  console.log(`\nwhere pop call's time goes (medians of ${o.runs} rounds, each step adds to the one above):`);
  let last: number | undefined;
  for (let i = 0; i < cmds.length; i++) {
    const m = median(times[i]!);
    const step = last === undefined || i >= cmds.length - 3 ? "" : ` (${m - last >= 0 ? "+" : ""}${(m - last).toFixed(2)} ms)`;
    console.log(`     ${m.toFixed(2)} ms${step}  ${names[i]}`);
    if (i < cmds.length - 3) last = m;
  }
}
