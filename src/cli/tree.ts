import { isAbsolute, relative, sep } from "../_path.ts";
import { describeFunctions, DiscoveryError, formatLocation, type Hub, loadHub, type ModuleRecord, state, subMeta, type SubMeta } from "../hub/index.ts";
import { type Command, UsageError } from "./_args.ts";
import { EXIT } from "./_commands.ts";
import { HUB_ARGS, hubOptions } from "./_hubargs.ts";
import { out, outJson, styles, useColor } from "./_output.ts";

const PATH = "pop tree";

/** `pop tree`: the whole hub, loaded eagerly, with what failed and why. */
const tree: Command = {
  meta: {
    name: "tree",
    description: "List every sub, module and function (parameters and doc), the contracts applied, and each module not loaded with its reason",
    examples: ["pop tree --plugins examples/poppy", "pop tree --plugins examples/poppy --json"],
  },
  args: { ...HUB_ARGS },
  async run({ args }) {
    let hub: Hub;
    try {
      hub = await loadHub({ ...hubOptions(args, PATH), load: "eager" });
    } catch (e) {
      if (e instanceof DiscoveryError) throw new UsageError(e.message, PATH, { cause: e, hint: false });
      throw e;
    }
    const subs = [...state(hub).subs.values()].map(describeSub);
    const failures = state(hub).failures.map((f) => ({ ref: f.ref, ...f.location, file: rel(f.location.file), reason: relIn(f.reason) }));
    if (args.json) outJson({ subs, failures });
    else out(render(subs));
    return EXIT.ok;
  },
};

export default tree;

interface SubView {
  name: string;
  ref: string;
  dirs: string[];
  modules: ModuleView[];
  subs: SubView[];
}

interface ModuleView {
  name: string;
  ref: string;
  file: string;
  state: ModuleRecord["state"];
  reason?: string;
  location?: string;
  contracts: string[];
  functions: ReturnType<typeof describeFunctions>;
}

function describeSub(meta: SubMeta): SubView {
  return {
    name: meta.name,
    ref: meta.ref,
    dirs: meta.dirs.map(rel),
    modules: [...meta.modules.values()].sort((a, b) => (a.name === "init" ? -1 : b.name === "init" ? 1 : a.name < b.name ? -1 : 1)).map(describeModule),
    subs: [...meta.subs.values()].map((s) => describeSub(subMeta(s)!)),
  };
}

function describeModule(rec: ModuleRecord): ModuleView {
  const view: ModuleView = { name: rec.name, ref: rec.ref, file: rel(rec.file), state: rec.state, contracts: rec.contracts.map(rel), functions: [] };
  if (rec.reason !== undefined) view.reason = relIn(rec.reason);
  if (rec.location) view.location = formatLocation({ ...rec.location, file: rel(rec.location.file) });
  if (rec.state === "loaded") view.functions = describeFunctions(rec).map((f) => ({ ...f, contracts: f.contracts.map(rel) }));
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

function render(subs: SubView[]): string {
  const s = styles(useColor(1));
  const lines: string[] = [];
  const walk = (sub: SubView, indent: string) => {
    lines.push(`${indent}${s.bold(sub.ref)}${sub.dirs.length ? s.dim(`  ${sub.dirs.join(", ")}`) : s.dim("  (built in)")}`);
    for (const m of sub.modules) {
      if (m.state !== "loaded") {
        lines.push(`${indent}  ${s.red("✗")} ${m.name}  ${s.dim(m.location ?? m.file)}  ${s.red(`not loaded (${m.state}): ${m.reason ?? ""}`)}`);
        continue;
      }
      const contracts = m.contracts.length ? s.dim(`  contracts: ${m.contracts.join(", ")}`) : "";
      lines.push(`${indent}  ${s.cyan(m.name)}  ${s.dim(m.file)}${contracts}`);
      for (const f of m.functions) lines.push(`${indent}    ${f.name}(${f.params})${f.doc ? s.dim(`  ${f.doc}`) : ""}`);
    }
    for (const child of sub.subs) walk(child, `${indent}  `);
  };
  for (const sub of subs) walk(sub, "");
  return lines.join("\n");
}
