import { isAbsolute, relative, sep } from "../_path.ts";
import { DiscoveryError, formatLocation, type Hub, inspectHub, loadHub, type ModuleView, type SubView } from "../hub/index.ts";
import { type Command, UsageError } from "./_args.ts";
import { EXIT } from "./_commands.ts";
import { hubOptions, LOAD_ARGS, PLACE_ARGS } from "./_hubargs.ts";
import { out, outJson, styles, useColor } from "./_output.ts";

const PATH = "pop tree";

/** `pop tree`: the whole hub, loaded eagerly, with what failed and why. */
const tree: Command = {
  meta: {
    name: "tree",
    description:
      "List every plugin root in use (and where it came from), sub, module and function (parameters and doc), the contracts applied, and each module not loaded with its reason",
    examples: [
      "pop tree --plugins examples/poppy",
      "pop tree --plugins examples/poppy --json",
      "pop tree --plugins front-root --remote calc=http://10.0.0.5:8888",
    ],
  },
  args: { ...LOAD_ARGS, ...PLACE_ARGS },
  async run({ args }) {
    let hub: Hub;
    try {
      hub = await loadHub({ ...hubOptions(args, PATH), load: "eager" });
    } catch (e) {
      if (e instanceof DiscoveryError) throw new UsageError(e.message, PATH, { cause: e, hint: false });
      throw e;
    }
    const view = inspectHub(hub);
    // name, version and engine only for a root with a manifest (pop.json, package.json).
    const roots = view.roots.map((r): Root => ({
      dir: rel(r.dir),
      source: r.source,
      conf: r.conf === undefined ? null : rel(r.conf),
      ...(r.manifest ? { name: r.name ?? null, version: r.version ?? null, engine: r.engine ?? null } : {}),
    }));
    const subs = view.subs.map(relSub);
    const failures = view.failures.map((f) => ({ ...f, file: rel(f.file), reason: relIn(f.reason) }));
    if (args.json) outJson({ roots, subs, failures });
    else out(render(roots, subs));
    return EXIT.ok;
  },
};

export default tree;

type Root = { dir: string; source: string; conf: string | null; name?: string | null; version?: string | null; engine?: string | null };
type TreeModule = Omit<ModuleView, "location"> & { location?: string };
type TreeSub = Omit<SubView, "modules" | "subs"> & { modules: TreeModule[]; subs: TreeSub[] };

/** A sub as printed: paths relative to the cwd where they lie inside it, locations as `file:line:column`. */
function relSub(sub: SubView): TreeSub {
  return { ...sub, dirs: sub.dirs.map(rel), modules: sub.modules.map(relModule), subs: sub.subs.map(relSub) };
}

function relModule(m: ModuleView): TreeModule {
  const { location, ...rest } = m;
  const view: TreeModule = {
    ...rest,
    file: rel(m.file),
    contracts: m.contracts.map(rel),
    functions: m.functions.map((f) => ({ ...f, contracts: f.contracts.map(rel) })),
  };
  if (m.reason !== undefined) view.reason = relIn(m.reason);
  if (location) view.location = formatLocation({ ...location, file: rel(location.file) });
  return view;
}

/** A path relative to the cwd when it lies inside it, else as is. */
function rel(p: string): string {
  if (!isAbsolute(p)) return p;
  const r = relative(process.cwd(), p);
  return r === "" || r.startsWith("..") || isAbsolute(r) ? p : r;
}

/** A message with the paths inside the cwd made relative. */
function relIn(text: string): string {
  return text.replaceAll(process.cwd() + sep, "");
}

function render(roots: Root[], subs: TreeSub[]): string {
  const s = styles(useColor(1));
  const lines: string[] = [];
  if (roots.length) {
    // Every plugin root in use, and where it came from: a package's plugins never join unnoticed.
    lines.push(s.bold("roots:"));
    const width = Math.max(...roots.map((r) => r.dir.length));
    for (const r of roots) {
      lines.push(`  ${r.dir.padEnd(width)}  ${s.dim(`from ${r.source}${r.conf ? `, ${r.conf}` : ""}`)}`);
      // The manifest's name and version: which plugins, in which version, this run used.
      if (r.name) lines.push(`    ${s.bold(r.name)}${r.version ? ` ${r.version}` : ""}${r.engine ? s.dim(`  (pop ${r.engine})`) : ""}`);
    }
    lines.push("");
  }
  const walk = (sub: TreeSub, indent: string) => {
    const where = [sub.placed, sub.dirs.join(", ")].filter(Boolean).join(": ") || "(built in)";
    lines.push(`${indent}${s.bold(sub.ref)}${s.dim(`  ${where}`)}`);
    for (const m of sub.modules) {
      if (m.state !== "loaded") {
        lines.push(`${indent}  ${s.red("✗")} ${m.name}  ${s.dim(m.location ?? m.file)}  ${s.red(`not loaded (${m.state}): ${m.reason ?? ""}`)}`);
        continue;
      }
      // A placed module's contracts run where it does: said so, since none run in this process.
      const contracts = m.contracts.length ? s.dim(`  contracts${m.contractsOn ? ` (applied in the ${m.contractsOn})` : ""}: ${m.contracts.join(", ")}`) : "";
      lines.push(`${indent}  ${s.cyan(m.name)}  ${s.dim(m.file)}${contracts}`);
      for (const f of m.functions) lines.push(`${indent}    ${f.name}(${f.params})${f.doc ? s.dim(`  ${f.doc}`) : ""}`);
    }
    for (const child of sub.subs) walk(child, `${indent}  `);
  };
  for (const sub of subs) walk(sub, "");
  return lines.join("\n");
}
