// Path helpers for pop's start-up paths, with node:path's POSIX results. Importing node:path costs ~0.4 ms of a
// compiled pop's start-up (node:fs another ~1.8 ms; docs/benchmarks.md), a tenth of `pop --version`. On Windows these
// are node:path's own functions. Tested against node:path in test/paths.test.ts.

type PathApi = {
  sep: string;
  isAbsolute(p: string): boolean;
  normalize(p: string): string;
  join(...parts: string[]): string;
  resolve(...parts: string[]): string;
  dirname(p: string): string;
  basename(p: string, ext?: string): string;
  relative(from: string, to: string): string;
};

/** `.` and `..` segments folded away; `..` above the start kept only when `aboveRoot` (a relative path). */
function fold(path: string, aboveRoot: boolean): string {
  const out: string[] = [];
  for (const seg of path.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (aboveRoot) out.push("..");
    } else out.push(seg);
  }
  return out.join("/");
}

const posix: PathApi = {
  sep: "/",
  isAbsolute: (p) => p.charCodeAt(0) === 47,
  normalize(p) {
    if (p === "") return ".";
    const abs = p.charCodeAt(0) === 47;
    let s = fold(p, !abs);
    if (s === "" && !abs) s = ".";
    if (s !== "" && p.charCodeAt(p.length - 1) === 47) s += "/";
    return abs ? `/${s}` : s;
  },
  join(...parts) {
    let joined = "";
    for (const x of parts) if (x !== "") joined = joined === "" ? x : `${joined}/${x}`;
    return joined === "" ? "." : posix.normalize(joined);
  },
  resolve(...parts) {
    let path = "";
    for (let i = parts.length - 1; i >= 0 && path.charCodeAt(0) !== 47; i--) if (parts[i]) path = path ? `${parts[i]}/${path}` : parts[i]!;
    if (path.charCodeAt(0) !== 47) path = path ? `${process.cwd()}/${path}` : process.cwd();
    return `/${fold(path, false)}`;
  },
  dirname(p) {
    // node's algorithm, slash runs before the last name included ("a//b" -> "a/").
    if (p === "") return ".";
    let end = -1;
    let sawName = false;
    for (let i = p.length - 1; i >= 1; i--) {
      if (p.charCodeAt(i) !== 47) sawName = true;
      else if (sawName) {
        end = i;
        break;
      }
    }
    const root = p.charCodeAt(0) === 47;
    if (end === -1) return root ? "/" : ".";
    return root && end === 1 ? "//" : p.slice(0, end);
  },
  basename(p, ext) {
    let end = p.length;
    while (end > 1 && p.charCodeAt(end - 1) === 47) end--;
    if (end === 1 && p.charCodeAt(0) === 47) return "";
    const base = p.slice(p.lastIndexOf("/", end - 1) + 1, end);
    return ext !== undefined && ext !== base && base.endsWith(ext) ? base.slice(0, base.length - ext.length) : base;
  },
  relative(from, to) {
    const a = posix.resolve(from);
    const b = posix.resolve(to);
    if (a === b) return "";
    const x = a === "/" ? [] : a.slice(1).split("/");
    const y = b === "/" ? [] : b.slice(1).split("/");
    let i = 0;
    while (i < x.length && i < y.length && x[i] === y[i]) i++;
    return [...x.slice(i).map(() => ".."), ...y.slice(i)].join("/");
  },
};

const api: PathApi = process.platform === "win32" ? (require("node:path") as PathApi) : posix;

export const { sep, isAbsolute, normalize, join, resolve, dirname, basename, relative } = api;
/** The POSIX implementation itself (for tests on any platform). */
export { posix as posixPath };
