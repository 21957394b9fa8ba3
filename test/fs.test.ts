// pop's start-up file checks (src/_fs.ts, on Bun.Glob) must answer as node:fs does, odd names and links included.
import { describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { exists, isDirectory, isFile, readdir, readText } from "../src/_fs.ts";
import { tmp } from "./helpers.ts";

function tree(): string {
  const d = tmp();
  for (const f of ["a.ts", "[x].ts", "st*r.ts", "q?.ts", "br{a,b}.ts", "!bang.ts", "p(a).ts", "back\\slash.ts", ".hidden.ts", "sp ace.ts", "ü.ts"])
    writeFileSync(join(d, f), "");
  for (const f of ["sub", "we[ird]", "d(x)", "real", "locked"]) mkdirSync(join(d, f));
  symlinkSync("a.ts", join(d, "link.ts"));
  symlinkSync("real", join(d, "linkdir"));
  symlinkSync("nowhere", join(d, "broken.ts"));
  return d;
}

describe("src/_fs.ts answers as node:fs", () => {
  test("isFile, isDirectory and exists for every entry, a missing name and odd paths", () => {
    const d = tree();
    const paths = [
      ...readdirSync(d).map((n) => join(d, n)),
      join(d, "nope"),
      join(d, "nope.ts"),
      join(d, "sub/"),
      "/",
      d,
      `${d}/sub/../a.ts`,
      `${d}/sub/..`,
      `${d}/sub/.`,
      ".",
    ];
    for (const p of paths) {
      const st = statSync(p, { throwIfNoEntry: false });
      expect([p, isFile(p), isDirectory(p), exists(p)]).toEqual([p, st?.isFile() ?? false, st?.isDirectory() ?? false, existsSync(p)]);
    }
  });

  test("readdir lists what readdirSync lists, small and big folders alike", () => {
    const d = tree();
    expect(readdir(d)!.sort()).toEqual(readdirSync(d).sort());
    const big = join(d, "big");
    mkdirSync(big);
    for (let i = 0; i < 1500; i++) writeFileSync(join(big, `module-with-a-long-name-${i}.ts`), "");
    expect(readdir(big)!.sort()).toEqual(readdirSync(big).sort());
    expect(readdir(join(d, "nope"))).toBeUndefined();
    expect(readdir(join(d, "a.ts"))).toBeUndefined();
  });

  test("an unsearchable folder is not one pop can use", () => {
    if (process.getuid?.() === 0) return; // root searches any folder
    const d = tree();
    chmodSync(join(d, "locked"), 0);
    expect(isDirectory(join(d, "locked"))).toBe(false);
  });

  test("readText", async () => {
    const d = tree();
    writeFileSync(join(d, "t.json"), '{"a": 1}');
    expect(await readText(join(d, "t.json"))).toBe('{"a": 1}');
    expect(await readText(join(d, "nope.json"))).toBeUndefined();
  });
});
