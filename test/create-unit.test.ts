// pop create's pure parts in-process: names, the DYNE edit, and the all-or-nothing writer's undo.
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as fsChecks from "../src/_fs.ts";
import { addToDyne } from "../src/create/_dyne.ts";
import { badName } from "../src/create/_names.ts";
import { writeFiles } from "../src/create/_write.ts";
import { tmp } from "./helpers.ts";

describe("badName", () => {
  test("identifiers pass; everything else says why", () => {
    for (const ok of ["shop", "Shop2", "my_app", "a"]) expect(badName(ok, "sub")).toBeUndefined();
    expect(badName("", "sub")).toStartWith("sub name is empty");
    expect(badName("a\\b", "sub")).toContain("path separator");
    expect(badName("a..b", "sub")).toContain("is not a name");
    expect(badName("héllo", "sub")).toContain("not an identifier");
    expect(badName("with space", "sub")).toContain('e.g. "with_space"');
    for (const r of ["await", "yield", "enum", "null", "eval"]) expect(badName(r, "sub")).toContain("JavaScript reserved word");
    for (const r of ["pop", "OPT", "init", "contracts", "rcontracts", "constructor"]) expect(badName(r, "sub")).toContain("reserved by pop");
  });
});

describe("addToDyne", () => {
  const add = { store: ["store"] };
  test("a one-line literal stays one line; the entry goes last", () => {
    const text = 'export const CONFIG = {};\nexport const DYNE = { app: ["app"], "x-y": ["lib/x"] };\n';
    const r = addToDyne(text, { app: ["app"], "x-y": ["lib/x"] }, add);
    expect(r).toEqual({ text: 'export const CONFIG = {};\nexport const DYNE = { app: ["app"], "x-y": ["lib/x"], store: ["store"] };\n', added: ["store"] });
  });

  test("a multi-line literal keeps its indentation; a typed one keeps its type", () => {
    const text = "export const DYNE: Record<string, string[]> = {\n    app: ['app'],\n};\n";
    const r = addToDyne(text, { app: ["app"] }, add);
    expect(r).toEqual({ text: 'export const DYNE: Record<string, string[]> = {\n    app: ["app"],\n    store: ["store"],\n};\n', added: ["store"] });
  });

  test("a sub DYNE has already is no edit", () => {
    const text = 'export const DYNE = { store: ["store"] };\n';
    expect(addToDyne(text, { store: ["store"] }, add)).toEqual({ text, added: [] });
  });

  test("anything but a plain literal, or one that is not what conf.ts exports, is refused", () => {
    const refuse = (text: string, actual: Record<string, string[]> = { app: ["app"] }) => expect("problem" in addToDyne(text, actual, add)).toBe(true);
    refuse('export const DYNE = { ...base, app: ["app"] };');
    refuse('export const DYNE = { app: ["app"] /* main */ };');
    refuse("export const DYNE = { app: [dir] };");
    refuse("export const DYNE = { app: { x: 1 } };");
    refuse("export const DYNE = makeDyne();");
    refuse('export { DYNE } from "./dyne.ts";');
    refuse('export const DYNE = { app: ["app"] };\nDYNE.more = ["more"];', { app: ["app"], more: ["more"] });
    refuse('export const DYNE = { app: ["a\\u0070p"] };');
  });
});

describe("writeFiles", () => {
  test("a new folder appears whole, in one rename", async () => {
    const base = tmp();
    const target = join(base, "a/b/new");
    await writeFiles(target, [
      { path: "x.ts", text: "x", exists: false },
      { path: "d/y.ts", text: "y", exists: false },
    ]);
    expect(readFileSync(join(target, "d/y.ts"), "utf8")).toBe("y");
    expect(readdirSync(join(base, "a/b"))).toEqual(["new"]);
  });

  test("a new folder and the folders in it get the usual permissions (not a temporary folder's 0700)", async () => {
    const target = join(tmp(), "p");
    await writeFiles(target, [
      { path: "a/b/c.ts", text: "c", exists: false },
      { path: "a/d.ts", text: "d", exists: false },
      { path: "e/f.ts", text: "f", exists: false },
    ]);
    const usual = 0o777 & ~process.umask();
    for (const d of ["", "a", "a/b", "e"]) expect(statSync(join(target, d)).mode & 0o777).toBe(usual);
    expect(readFileSync(join(target, "a/b/c.ts"), "utf8")).toBe("c");
    expect(readdirSync(join(target, "a")).sort()).toEqual(["b", "d.ts"]);
  });

  test("a new folder that fails half-way is not left behind, nor its staging folder", async () => {
    const base = tmp();
    await expect(
      writeFiles(join(base, "p"), [
        { path: "x", text: "a file", exists: false },
        { path: "x/y.ts", text: "where the file is", exists: false },
      ]),
    ).rejects.toThrow();
    expect(readdirSync(base)).toEqual([]);
  });

  test("into a folder: a failure half-way restores what was replaced and removes what was added", async () => {
    const target = tmp();
    writeFileSync(join(target, "keep.ts"), "old");
    writeFileSync(join(target, "zeta"), "a file where a folder must go");
    const attempt = writeFiles(target, [
      { path: "keep.ts", text: "new", exists: true },
      { path: "added/z.ts", text: "z", exists: false },
      { path: "zeta/w.ts", text: "w", exists: false },
    ]);
    await expect(attempt).rejects.toThrow();
    expect(readFileSync(join(target, "keep.ts"), "utf8")).toBe("old");
    expect(existsSync(join(target, "added"))).toBe(false);
    expect(readdirSync(target).sort()).toEqual(["keep.ts", "zeta"]);
  });

  test("a failing step before placing leaves no new folder and no staging folder", async () => {
    const base = tmp();
    const target = join(base, "p");
    await expect(
      writeFiles(target, [{ path: "x.ts", text: "x", exists: false }], async () => {
        throw new Error("schema failed");
      }),
    ).rejects.toThrow("schema failed");
    expect(readdirSync(base)).toEqual([]);
  });
});

describe("preferNodeFs (what pop create switches to)", () => {
  test("every check answers as the Bun.Glob one did: files, folders, links, missing, odd names, listings, texts", async () => {
    const d = tmp();
    mkdirSync(join(d, "sub [x]*"));
    writeFileSync(join(d, "f.ts"), "text ü\n");
    writeFileSync(join(d, "sub [x]*/g?.ts"), "");
    symlinkSync(join(d, "f.ts"), join(d, "to-file"));
    symlinkSync(join(d, "sub [x]*"), join(d, "to-dir"));
    symlinkSync(join(d, "nowhere"), join(d, "broken"));
    const paths = ["f.ts", "sub [x]*", "sub [x]*/g?.ts", "to-file", "to-dir", "broken", "missing", "f.ts/x", ".", "sub [x]*/.."].map((p) => join(d, p));
    const answers = async () => ({
      isFile: paths.map((p) => fsChecks.isFile(p)),
      exists: paths.map((p) => fsChecks.exists(p)),
      isDirectory: paths.map((p) => fsChecks.isDirectory(p)),
      readdir: paths.map((p) => fsChecks.readdir(p)?.sort()),
      readText: await Promise.all(paths.map((p) => fsChecks.readText(p))),
    });
    const before = await answers();
    expect(before.isFile.filter(Boolean).length).toBe(3);
    expect(before.readText[0]).toBe("text ü\n");
    fsChecks.preferNodeFs();
    expect(await answers()).toEqual(before);
  });
});
