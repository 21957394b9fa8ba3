import { quote } from "../errors.ts";

// JavaScript's reserved words (and strict-mode / contextual ones that break as identifiers), pop's own names on the
// hub, and folder names the hub never reads as subs: none of them can be a project, sub or module.
const JS_RESERVED = new Set(
  (
    "break case catch class const continue debugger default delete do else enum export extends false finally for function if import in " +
    "instanceof new null return super switch this throw true try typeof var void while with yield let static implements interface package " +
    "private protected public await arguments eval undefined NaN Infinity"
  ).split(" "),
);
const POP_RESERVED = new Set(["pop", "OPT", "init", "contracts", "rcontracts", "test", "tests", "node_modules", "constructor", "prototype", "__proto__"]);

const IDENT = /^[A-Za-z][A-Za-z0-9_]*$/;

/** Why `name` cannot name a project, sub or module (`what` says which, `example` a good one, for the message), or undefined when it can. */
export function badName(name: string, what: string, example = "shop"): string | undefined {
  if (name === "") return `${what} name is empty: give a name such as ${quote(example)}`;
  if (name.includes("/") || name.includes("\\"))
    return `${what} name ${quote(name)} holds a path separator: give a plain name such as ${quote(example)} (use --dir or --in for where it goes)`;
  if (name === "." || name === ".." || name.includes("..")) return `${what} name ${quote(name)} is not a name: give a plain name such as ${quote(example)}`;
  if (!IDENT.test(name))
    return `${what} name ${quote(name)} is not an identifier: use letters, digits and _, starting with a letter (it is a folder name and a name on the hub), e.g. ${quote(suggest(name))}`;
  if (JS_RESERVED.has(name)) return `${what} name ${quote(name)} is a JavaScript reserved word: choose another, e.g. ${quote(`${name}_`.replace(/^_+/, ""))}`;
  // The scaffolder's templates are the `create` sub of the hub pop create builds over the project's roots: a project's
  // sub of that name would become templates (and a project named so gets a sub of its name).
  if (name === "create" && (what === "sub" || what === "project"))
    return `${what} name "create" is taken by pop create's templates (the create sub of its hub): choose another, e.g. "creator"`;
  if (POP_RESERVED.has(name)) return `${what} name ${quote(name)} is reserved by pop: choose another, e.g. ${quote(`my_${name}`)}`;
  return undefined;
}

function suggest(name: string): string {
  const s = name.replace(/[^A-Za-z0-9_]+/g, "_").replace(/^[^A-Za-z]+/, "");
  return s === "" ? "shop" : s;
}
