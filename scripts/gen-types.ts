// Run by scripts/build.ts before compiling: writes src/types/_pop.generated.txt, the declarations of the `pop` module
// (src/pop.ts and zod's types) as one file of ambient modules, which `pop types` writes into a project's .pop/ so
// editors and tsc know `import { z, type Hub } from "pop"` with no node_modules. The file is derived, so it is not
// committed (src/types/.gitignore): every build makes it fresh from the source it is built from.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");
const OUT = join(ROOT, "src/types/_pop.generated.txt");
const ZOD = join(ROOT, "node_modules/zod");
const TSC = join(ROOT, "node_modules/.bin/tsc");

/** Emit src/pop.ts's declarations (and every file they reach) with tsc into a temporary folder. */
async function emit(out: string): Promise<void> {
  const config = join(out, "tsconfig.json");
  const compilerOptions = {
    target: "ESNext",
    module: "Preserve",
    moduleResolution: "bundler",
    lib: ["ESNext"],
    types: ["bun"],
    typeRoots: [join(ROOT, "node_modules/@types")],
    strict: true,
    exactOptionalPropertyTypes: true,
    allowImportingTsExtensions: true,
    skipLibCheck: true,
    declaration: true,
    emitDeclarationOnly: true,
    outDir: join(out, "d"),
    rootDir: ROOT,
    paths: { pop: [join(ROOT, "src/pop.ts")], jiti: [join(ROOT, "src/config/_nojiti.ts")] },
  };
  writeFileSync(config, JSON.stringify({ compilerOptions, files: [join(ROOT, "src/pop.ts")] }));
  const proc = Bun.spawn([TSC, "-p", config], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const [text, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  // Type errors elsewhere in the tree (work in progress) still emit declarations; a missing pop.d.ts is fatal below.
  if (code !== 0 && text.trim()) console.error(`gen-types: tsc reported (declarations written anyway):\n${text.trim().split("\n").slice(0, 10).join("\n")}`);
}

/** The module name a declaration file gets inside the bundle. */
function nameOf(file: string, declDir: string): string {
  if (file.startsWith(ZOD + "/")) return `pop:zod/${relative(ZOD, file).replace(/\.d\.ts$/, "")}`;
  return `pop:${relative(declDir, file).replace(/\.d\.ts$/, "")}`;
}

/** The declaration file a specifier names from `from`, or undefined for a module outside the bundle. */
function resolveSpec(spec: string, from: string): string | undefined {
  if (spec === "zod") return join(ZOD, "index.d.ts");
  if (spec.startsWith("zod/")) return join(ZOD, spec.slice(4), "index.d.ts");
  if (!spec.startsWith(".")) return undefined;
  const base = resolve(dirname(from), spec).replace(/\.(js|ts|d\.ts)$/, "");
  for (const f of [`${base}.d.ts`, join(base, "index.d.ts")]) if (Bun.file(f).size > 0) return f;
  throw new Error(`gen-types: ${from}: cannot resolve "${spec}"`);
}

const SPEC = /(\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)(["'])([^"']+)\2/gm;

/** Wrap every reachable declaration file in `declare module "pop:…"`, its imports renamed to the bundle's names. */
function bundle(declDir: string): string {
  const entry = join(declDir, "src/pop.d.ts");
  const queue = [entry];
  const seen = new Set(queue);
  const externals = new Set<string>();
  const parts: string[] = [];
  while (queue.length > 0) {
    const file = queue.shift()!;
    const rename = (line: string) =>
      /^\s*(\*|\/\*|\/\/)/.test(line)
        ? line
        : line.replace(SPEC, (_m, pre: string, q: string, spec: string) => {
            if (spec === "pop") return `${pre}${q}pop${q}`;
            const target = resolveSpec(spec, file);
            if (!target) {
              externals.add(spec);
              return `${pre}${q}pop:external/${spec}${q}`;
            }
            if (!seen.has(target)) {
              seen.add(target);
              queue.push(target);
            }
            return `${pre}${q}${nameOf(target, declDir)}${q}`;
          });
    // Doc comments keep their examples' imports as written.
    const text = readFileSync(file, "utf8").split("\n").map(rename).join("\n");
    // Inside `declare module` everything is already ambient: `export declare function` becomes `export function`.
    const body = text
      .replace(/^(\s*)(export\s+)?declare\s+(?!global\b|module\b)/gm, "$1$2")
      .replace(/^\/\/# sourceMappingURL=.*$/gm, "")
      .trimEnd();
    parts.push(`declare module "${nameOf(file, declDir)}" {\n${body}\n}`);
  }
  // What the bundle cannot carry (node:fs in a private helper's signature) is typed as any, so no error points into it.
  for (const spec of [...externals].sort()) parts.push(`declare module "pop:external/${spec}" {\n  const value: any;\n  export = value;\n}`);
  parts.push(`/** The module plugin files import: \`import { z, type Hub } from "pop"\`. */\ndeclare module "pop" {\n  export * from "pop:src/pop";\n}`);
  return `// The \`pop\` module's declarations, written by \`pop types\` (pop's own build generates them; do not edit).\n${parts.join("\n")}\n`;
}

const tmp = mkdtempSync(join(tmpdir(), "pop-gen-types-"));
try {
  await emit(tmp);
  const declDir = join(tmp, "d");
  if (!Bun.file(join(declDir, "src/pop.d.ts")).size) throw new Error("gen-types: tsc wrote no src/pop.d.ts");
  const text = bundle(declDir);
  let old: string | undefined;
  try {
    old = readFileSync(OUT, "utf8");
  } catch {}
  if (old !== text) writeFileSync(OUT, text);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
