// Template `project`: a project that runs (`pop app NAME`), passes its tests (`pop test NAME`) and type-checks the
// moment it is written: conf.ts, the project's own sub (spine: init.ts with cli), one library sub, tests, README.
import type { CreateContext, Hub, TemplateOutput } from "pop";
import { shellWord, testHeader } from "./_common.ts";
import { configSchemaText, type SchemaOption } from "./_schema.ts";

export const description = "A project: conf.ts, NAME/init.ts with cli, a library sub, tests, README, package.json, tsconfig.json";
export const target = "new";

/** The project's files. */
export function render(_hub: Hub, ctx: CreateContext): TemplateOutput {
  const n = ctx.name;
  // The example library sub is `calc`, unless the project itself is called calc: then it is `numbers`.
  const lib = n === "calc" ? "numbers" : "calc";
  const here = shellWord(ctx.where);
  return {
    files: {
      "conf.ts": conf(n, lib),
      [`${n}/init.ts`]: init(n, lib),
      [`${lib}/math.ts`]: math(lib),
      [`test/${n}.test.ts`]: test(n, lib),
      "README.md": readme(n, lib),
      ".gitignore": ".pop/\nnode_modules/\n",
      "package.json": `${JSON.stringify(pkg(n, ctx.popVersion), null, 2)}\n`,
      "tsconfig.json": `${JSON.stringify(TSCONFIG, null, 2)}\n`,
      ".vscode/settings.json": `${JSON.stringify(vscode(n), null, 2)}\n`,
      [`${n}.schema.json`]: configSchemaText(n, OPTIONS),
    },
    next: [`pop app ${here}`, `pop test ${here}`],
  };
}

/** The options conf.ts defines: its CONFIG and its JSON Schema are both written from these (a test compares the schema with pop config schema's). */
const OPTIONS: SchemaOption[] = [
  { name: "greeting", help: "The greeting to print", type: "string", default: "Hello" },
  { name: "num", help: "Which Fibonacci number to print with it", type: "number", default: 10 },
];

const conf = (n: string, lib: string) => `// ${n}'s definition, in one place: its options (CONFIG), which of them the command line takes (CLI_CONFIG) and
// which folders hold which subs (DYNE). \`pop app . --help\`, ${n.toUpperCase()}_* environment variables, ${n}.config.* files
// and \`pop config schema .\` (${n}.schema.json) all come from here (\`.\`: this folder; from elsewhere, give its path).

export const CONFIG = {
${OPTIONS.map((o) => `  ${o.name}: { default: ${JSON.stringify(o.default)}, help: ${JSON.stringify(o.help)} },\n`).join("")}};

export const CLI_CONFIG = {
  greeting: { options: ["-g"] },
  num: { options: ["-n"] },
};

export const DYNE = { ${n}: ["${n}"], ${lib}: ["${lib}"] };

/** The project's name whatever its folder is called: hub.OPT.${n}, ${n.toUpperCase()}_* variables, ${n}.config.* files. */
export const NAME = "${n}";
`;

const init = (n: string, lib: string) => `import type { Hub } from "pop";
import { DYNE } from "../conf.ts";

/** Runs when the ${n} sub is added (pop app adds it first): add every other sub DYNE lists, so a new sub needs no edit here. */
export async function __init__(hub: Hub): Promise<void> {
  for (const name of Object.keys(DYNE)) if (name !== "${n}") await hub.pop.sub.add({ dyneName: name });
}

/** The app's entry point, from the project's folder: \`pop app .\`, \`pop app . --greeting Hi --num 11\`. */
export async function cli(hub: Hub): Promise<void> {
  await hub.pop.config.load(["${n}"], { cli: "${n}" });
  console.log(hub.${n}.init.greet(hub.OPT.${n}));
}

/** The line cli prints: the greeting and a Fibonacci number from the ${lib} sub. */
export function greet(hub: Hub, { greeting, num }: { greeting: string; num: number }): string {
  return \`\${greeting} from ${n}: fib(\${num}) = \${hub.${lib}.math.fib({ num })}\`;
}
`;

const math = (lib: string) => `import type { Hub } from "pop";

// The library pattern: a sub of plain functions any plugin calls through the hub, e.g. hub.${lib}.math.fib({ num: 11 }).

/** The num-th Fibonacci number: num is a whole number from 0 to 1476 (fib(1477) is past the largest number). */
export function fib(hub: Hub, { num = 10 }: { num?: number } = {}): number {
  // Checked before the loop: nothing stops a running loop (not a timeout, not Ctrl-C), and 1e400 is Infinity.
  if (!Number.isInteger(num) || num < 0 || num > 1476) throw new RangeError(\`num must be a whole number from 0 to 1476, got \${num}\`);
  let [prev, curr] = [0, 1];
  for (let i = 0; i < num; i++) [prev, curr] = [curr, prev + curr];
  return prev;
}

/** Three times num. */
export function triple(hub: Hub, { num = 10 }: { num?: number } = {}): number {
  return num * 3;
}
`;

const test = (n: string, lib: string) => `${testHeader("", "mockHub, testHub")}
test("${lib}.math.fib: the 11th Fibonacci number is 89", () => {
  expect(hub.${lib}.math.fib({ num: 11 })).toBe(89);
  expect(hub.${lib}.math.fib({ num: 0 })).toBe(0);
  expect(() => hub.${lib}.math.fib({ num: 1e400 })).toThrow("num must be a whole number from 0 to 1476, got Infinity");
  expect(() => hub.${lib}.math.fib({ num: 2.5 })).toThrow(RangeError);
});

test("${lib}.math.triple", () => {
  expect(hub.${lib}.math.triple({ num: 33 })).toBe(99);
});

test("${n}.init.greet puts the greeting and the number together", () => {
  expect(hub.${n}.init.greet({ greeting: "Hi", num: 11 })).toBe("Hi from ${n}: fib(11) = 89");
});

test("mockHub: greet alone, with ${lib}.math.fib stood in for and its call recorded", async () => {
  const m = await mockHub(hub, { real: ["${n}.init.greet"] });
  m.${lib}.math.fib.returns(1000);
  expect(m.${n}.init.greet({ greeting: "Hi", num: 3 })).toBe("Hi from ${n}: fib(3) = 1000");
  expect(m.${lib}.math.fib).toHaveBeenCalledWith({ num: 3 });
});
`;

const readme = (n: string, lib: string) => `# ${n}

A Plugin Oriented Programming project, run by \`pop\` alone: no Bun, npm or build step needed.

| file | what it is |
|---|---|
| \`conf.ts\` | the options (CONFIG), the command line (CLI_CONFIG) and where the subs are (DYNE) |
| \`${n}/init.ts\` | the project's own sub: \`cli(hub)\` is the entry point \`pop app\` calls |
| \`${lib}/math.ts\` | a library sub: \`hub.${lib}.math.fib({ num })\` |
| \`test/\` | tests, run by \`pop test\` (\`import { mockHub, testHub } from "pop"\`) |
| \`${n}.schema.json\` | the JSON Schema of ${n}.config.json files (\`pop config schema .\`) |
| \`package.json\` | the name and version; its \`"pop"\` field is the plugin root's manifest (\`engines.pop\`: the pop versions it runs on) |

Run it, from this folder (the one holding \`conf.ts\`; from elsewhere, give its path instead of \`.\`):

    pop app .                 # Hello from ${n}: fib(10) = 55
    pop app . -g Hi -n 11     # Hi from ${n}: fib(11) = 89
    pop app . --help
    pop call ${lib}.math.fib num=11 --plugins .

Test it:

    pop test .

Type-check it (editors do the same with \`tsconfig.json\`): \`pop types .\` writes the hub's types into \`.pop/\`, then

    tsc --noEmit -p .

Add to it (here, or from elsewhere with \`--in PATH\`): \`pop create sub NAME --pattern library\`, \`pop create plugin ${lib}/NAME\`,
\`pop create contract ${lib}/NAME\`. Editors check config files (\`${n}.config.json\`, \`.yaml\`) against \`${n}.schema.json\`
(\`.vscode/settings.json\`); after changing conf.ts, regenerate it: \`pop config schema . > ${n}.schema.json\`.
`;

/** package.json: its "pop" field makes it the plugin root's manifest (name and version, shown by pop tree and --trace; engines.pop checked). */
const pkg = (n: string, popVersion: string) => ({
  name: n,
  version: "0.1.0",
  private: true,
  type: "module",
  pop: { engines: { pop: `>=${popVersion.split(".").slice(0, 2).join(".")}` } },
  scripts: { start: "pop app .", test: "pop test .", types: "pop types .", schema: `pop config schema . > ${n}.schema.json` },
});

/** Editors: the hub's types (.pop/, written by `pop types`), plugin and config .ts files. */
const TSCONFIG = {
  compilerOptions: {
    target: "ESNext",
    module: "Preserve",
    moduleResolution: "bundler",
    lib: ["ESNext"],
    types: [],
    strict: true,
    noUncheckedIndexedAccess: true,
    verbatimModuleSyntax: true,
    allowImportingTsExtensions: true,
    noEmit: true,
    skipLibCheck: true,
  },
  include: ["**/*.ts", ".pop/**/*.d.ts"],
  exclude: ["node_modules"],
};

/** Editors: config files checked against the project's JSON Schema. */
const vscode = (n: string) => ({
  "json.schemas": [{ fileMatch: [`${n}.config.json`, `${n}.config.jsonc`, `${n}.config.json5`, `.config/${n}.json`], url: `./${n}.schema.json` }],
  "yaml.schemas": { [`./${n}.schema.json`]: [`${n}.config.yaml`, `${n}.config.yml`, `.config/${n}.yaml`] },
});
