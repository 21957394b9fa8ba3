// Run by scripts/build.ts before compiling: writes what `pop types` puts in a project's .pop/ so editors and tsc know
// `import { z, type Hub } from "pop"`, Bun's API and `bun:test` with no node_modules: src/types/_popdts.generated.d.ts.gz
// (pop.d.ts: src/pop.ts's declarations and zod's, one file of ambient modules) and src/types/_buntypes.generated.json.gz
// (Bun's own type packages, bun-types, @types/node and undici-types, as they are: a JSON map of path -> text). And src/testing/_popmodule.generated.js.gz: src/pop.ts bundled into one ES module, which `pop test` writes out
// for the Bun it runs tests with (its preload serves it as "pop"). Both are derived, so neither is committed (each
// folder's .gitignore): every build makes them fresh.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");
const POP_DTS = join(ROOT, "src/types/_popdts.generated.d.ts.gz");
const BUN_TYPES = join(ROOT, "src/types/_buntypes.generated.json.gz");
/** The type packages Bun's types need, as .pop/node_modules holds them (tsc dedupes them against installed copies of the same version). */
const TYPE_PACKAGES = ["bun-types", "@types/node", "undici-types"];
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
              // Node's and Bun's modules come with Bun's types (.pop/node_modules); anything else would dangle.
              if (/^(node:|bun$|bun:)/.test(spec)) return `${pre}${q}${spec}${q}`;
              throw new Error(`gen-types: ${file}: "${spec}" is neither pop's, zod's, Node's nor Bun's: the pop module's declarations cannot carry it`);
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
  parts.push(`/** The module plugin files import: \`import { z, type Hub } from "pop"\`. */\ndeclare module "pop" {\n  export * from "pop:src/pop";\n}`);
  const head = [
    "// The `pop` module's declarations, written by `pop types` (pop's own build generates them; do not edit).",
    '/// <reference types="bun-types" />',
  ];
  return `${head.join("\n")}\n${parts.join("\n")}\n`;
}

/** A type package's declarations, package.json and licence (not its docs), nested node_modules included. */
function copyPackage(dir: string, as: string, files: Record<string, string>): void {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== "docs") copyPackage(path, `${as}/${name}`, files);
    } else if (name.endsWith(".d.ts") || name === "package.json" || name === "LICENSE") {
      files[`${as}/${name}`] = readFileSync(path, "utf8");
    }
  }
}

/** src/pop.ts as one ES module for Bun (macros run now: the built-in plugins' sources are inside it). */
async function popModule(): Promise<string> {
  const result = await Bun.build({ entrypoints: [join(ROOT, "src/pop.ts")], target: "bun", format: "esm", root: ROOT });
  if (!result.success || result.outputs.length !== 1) throw new Error(`gen-types: bundling src/pop.ts failed:\n${result.logs.join("\n")}`);
  return await result.outputs[0]!.text();
}

const POP_MODULE = join(ROOT, "src/testing/_popmodule.generated.js.gz");

/** Write `text` gzipped (the executable carries ~1 MB instead of ~6), unless the file already holds it. */
function writeGzip(file: string, text: string): void {
  try {
    if (new TextDecoder().decode(Bun.gunzipSync(readFileSync(file))) === text) return;
  } catch {}
  writeFileSync(file, Bun.gzipSync(text, { level: 9 }));
}

const tmp = mkdtempSync(join(tmpdir(), "pop-gen-types-"));
try {
  await emit(tmp);
  const declDir = join(tmp, "d");
  if (!Bun.file(join(declDir, "src/pop.d.ts")).size) throw new Error("gen-types: tsc wrote no src/pop.d.ts");
  writeGzip(POP_DTS, bundle(declDir));
  const files: Record<string, string> = {};
  for (const pkg of TYPE_PACKAGES) copyPackage(join(ROOT, "node_modules", pkg), pkg, files);
  writeGzip(BUN_TYPES, JSON.stringify(files));
  writeGzip(POP_MODULE, await popModule());
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
