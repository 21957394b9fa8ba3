import { describeOrigin, show } from "./_resolve.ts";
import type { LoadResult, Resolved } from "./_types.ts";

/** What a secret option shows instead of its value. */
export const HIDDEN = "<hidden>";

/** The resolved options as `pop config show` prints them: `project.option = value`, with `--explain` each value's source. Secrets are hidden. */
export function formatText(result: Pick<LoadResult, "sources">, explain: boolean): string {
  const rows: Array<[string, string, string]> = [];
  for (const [project, options] of Object.entries(result.sources)) {
    for (const [name, r] of Object.entries(options)) rows.push([`${project}.${name}`, r.secret ? HIDDEN : show(r.value), sourceText(r)]);
  }
  if (rows.length === 0) return "(no options)";
  const w1 = Math.max(...rows.map((r) => r[0].length));
  const w2 = Math.max(...rows.map((r) => r[1].length));
  return rows.map(([k, v, src]) => (explain ? `${k.padEnd(w1)} = ${v.padEnd(w2)}  ${src}` : `${k.padEnd(w1)} = ${v}`)).join("\n");
}

/** The resolved options as JSON data; with `explain`, `{ value, source }` per option. Secrets are hidden. */
export function formatJson(result: Pick<LoadResult, "sources">, explain: boolean): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [project, options] of Object.entries(result.sources)) {
    const p: Record<string, unknown> = (out[project] = {});
    for (const [name, r] of Object.entries(options)) {
      const value = r.secret ? HIDDEN : r.value === undefined ? null : r.value;
      p[name] = explain ? { value, source: sourceText(r), origin: r.origin } : value;
    }
  }
  return out;
}

/** "default", or "from --port", "from environment variable POPPY_PORT", "from /path/poppy.config.ts key \"port\"". */
export function sourceText(r: Resolved): string {
  return r.origin.kind === "default" ? "default" : `from ${describeOrigin(r.origin)}`;
}
