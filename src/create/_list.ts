// `pop create --list`: every template on the hub's `create` sub and where it comes from.
import { relative, resolve, sep } from "node:path";
import type { Hub } from "../hub/index.ts";
import { BUILTIN_CREATE } from "./_builtin.ts";
import { templateName, templateProblem } from "./_create.ts";

/** One template as listed. */
export interface TemplateInfo {
  name: string;
  description: string;
  /** "built in", or the template's file (absolute; the text list shows it relative to the working directory when inside it). */
  from: string;
  /** It replaces the built-in template of its name (`__override__`). */
  overrides: boolean;
  target?: string;
  patterns?: string[];
  /** Why it is not usable (a load failure), when it is not. */
  error?: string;
}

/** Every template, by name; a template whose module failed to load is listed with its error. */
export async function listTemplates(hub: Hub): Promise<TemplateInfo[]> {
  await hub.pop.sub.loadAll("create").catch(() => {});
  const failures = hub.pop.sub.failures() as Array<{ ref: string; reason: string }>;
  const entries = (hub.pop.sub.iter("create") as Array<{ name: string; kind: string; file?: string; state?: string }>).filter((e) => e.kind === "module");
  return entries.map((e) => {
    const builtin = BUILTIN_CREATE[e.name];
    const own = builtin !== undefined && e.file === builtin.file;
    const info: TemplateInfo = {
      name: templateName(e.name),
      description: "",
      from: own ? "built in" : resolve(e.file ?? ""),
      overrides: !own && builtin !== undefined && e.state === "loaded",
    };
    if (e.state !== "loaded") {
      info.error = failures.find((f) => f.ref === `create.${e.name}`)?.reason ?? `not loaded (${e.state})`;
      return info;
    }
    const m = hub.create[e.name] as Record<string, unknown>;
    info.description = typeof m.description === "string" ? m.description : "";
    if (typeof m.target === "string") info.target = m.target;
    if (Array.isArray(m.patterns)) info.patterns = m.patterns as string[];
    const problem = templateProblem(m);
    if (problem) info.error = problem; // loaded, but pop create TEMPLATE would refuse it
    return info;
  });
}

/** The list as text: one line per template. */
export function formatList(list: TemplateInfo[]): string {
  const w = Math.max(...list.map((t) => t.name.length));
  const f = Math.max(...list.map((t) => fromText(t).length));
  const lines = list.map((t) => `  ${t.name.padEnd(w)}  ${fromText(t).padEnd(f)}  ${t.error ? `not usable: ${t.error}` : t.description}`.trimEnd());
  return `templates (pop create TEMPLATE NAME):\n${lines.join("\n")}`;
}

function fromText(t: TemplateInfo): string {
  const from = t.from === "built in" ? t.from : shown(t.from);
  return t.overrides ? `${from} (overrides built in)` : from;
}

/** A path relative to the working directory when it lies inside it, else as it is. */
function shown(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel !== "" && !rel.startsWith("..") && !rel.startsWith(sep) ? rel : file;
}
