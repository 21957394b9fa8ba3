// Adding subs to a project's `export const DYNE = { ... }` in conf.ts, only when that is safe: the literal must be
// plain (names to lists of strings, no comments, spreads or computed values) and must say exactly what the imported
// conf.ts says. Otherwise the caller reports what to add by hand.

/** What a DYNE edit comes to: the new conf.ts text and the subs added, or why it cannot be done safely. */
export type DyneEdit = { text: string; added: string[] } | { problem: string };

const DECL = /export\s+const\s+DYNE\s*(?::[^=]+)?=\s*\{/g;

/** Add `add`'s subs to the DYNE of conf.ts `text`; `actual` is DYNE as the imported conf.ts exports it. */
export function addToDyne(text: string, actual: Record<string, string[]>, add: Record<string, string[]>): DyneEdit {
  const missing = Object.entries(add).filter(([k]) => !Object.hasOwn(actual, k));
  if (missing.length === 0) return { text, added: [] };
  const decls = [...text.matchAll(DECL)];
  if (decls.length !== 1) return { problem: "its DYNE is not one `export const DYNE = { ... }` literal" };
  const open = decls[0]!.index! + decls[0]![0].length - 1;
  const parsed = parseBody(text, open + 1);
  if (!parsed) return { problem: "its DYNE literal holds more than names and lists of folder strings" };
  if (!sameDyne(parsed.entries, actual)) return { problem: "its DYNE literal is not what conf.ts exports (it is computed or changed later)" };
  const entries = [...parsed.entries, ...missing];
  const body = text.slice(open + 1, parsed.close);
  const indent = /\n([ \t]+)\S/.exec(body)?.[1];
  const item = ([k, v]: [string, string[]]) => `${/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k)}: [${v.map((d) => JSON.stringify(d)).join(", ")}]`;
  const line = `{ ${entries.map(item).join(", ")} }`;
  // One line stays one line while it fits; past 100 characters it becomes one entry per line.
  const lines = (pad: string) => `{\n${entries.map((e) => `${pad}${item(e)},\n`).join("")}}`;
  const literal = indent !== undefined ? lines(indent) : line.length > 100 ? lines("  ") : line;
  const out = text.slice(0, open) + literal + text.slice(parsed.close + 1);
  const again = parseBody(out, open + 1);
  if (!again || !sameDyne(again.entries, Object.fromEntries(entries))) return { problem: "the edited DYNE would not read back as intended" };
  return { text: out, added: missing.map(([k]) => k) };
}

/** The entries of an object literal body starting at `from` (just after its `{`) and the index of its `}`; undefined when it is not plain. */
function parseBody(text: string, from: number): { entries: Array<[string, string[]]>; close: number } | undefined {
  const tokens: string[] = [];
  const TOKEN = /\s*(?:([{}[\]:,])|("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')|([A-Za-z_$][\w$]*))/y;
  TOKEN.lastIndex = from;
  let close = -1;
  while (TOKEN.lastIndex < text.length) {
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(text);
    if (!m || m.index !== at) return undefined;
    const t = m[1] ?? m[2] ?? m[3]!;
    if (t === "{") return undefined;
    if (t === "}") {
      close = TOKEN.lastIndex - 1;
      break;
    }
    tokens.push(t);
  }
  if (close < 0) return undefined;
  const entries: Array<[string, string[]]> = [];
  let i = 0;
  const str = (t: string | undefined) => (t !== undefined && /^["']/.test(t) ? unquote(t) : undefined);
  while (i < tokens.length) {
    const key = tokens[i]!;
    const name = /^[A-Za-z_$]/.test(key) ? key : str(key);
    if (name === undefined || tokens[i + 1] !== ":" || tokens[i + 2] !== "[") return undefined;
    i += 3;
    const dirs: string[] = [];
    while (tokens[i] !== "]") {
      const d = str(tokens[i]);
      if (d === undefined) return undefined;
      dirs.push(d);
      i++;
      if (tokens[i] === ",") i++;
      else if (tokens[i] !== "]") return undefined;
    }
    i++;
    entries.push([name, dirs]);
    if (tokens[i] === ",") i++;
    else if (i < tokens.length) return undefined;
  }
  return { entries, close };
}

function unquote(t: string): string | undefined {
  if (t.includes("\\")) return undefined; // escapes: not worth the risk of reading them wrong
  return t.slice(1, -1);
}

function sameDyne(entries: Array<[string, string[]]>, actual: Record<string, string[]>): boolean {
  const keys = Object.keys(actual);
  if (keys.length !== entries.length) return false;
  return entries.every(([k, v]) => Object.hasOwn(actual, k) && JSON.stringify(actual[k]) === JSON.stringify(v));
}
