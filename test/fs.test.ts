// pop's start-up file checks (src/_fs.ts, on Bun.Glob) must answer as node:fs does, odd names and links included.
import { describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readdirSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
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
  // Times no check may take for "missing": the epoch (reproducible builds, archives) and the far future.
  writeFileSync(join(d, "epoch.ts"), "");
  utimesSync(join(d, "epoch.ts"), 0, 0);
  mkdirSync(join(d, "epochdir"));
  utimesSync(join(d, "epochdir"), 0, 0);
  writeFileSync(join(d, "future.ts"), "");
  utimesSync(join(d, "future.ts"), 32503680000, 32503680000); // the year 3000
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
      join(d, "a.ts/x"), // under a file
      join(d, "nope/x.ts"), // under nothing
    ];
    for (const p of paths) {
      let st: ReturnType<typeof statSync> | undefined;
      try {
        st = statSync(p, { throwIfNoEntry: false });
      } catch {} // ENOTDIR: under a file
      expect([p, isFile(p), isDirectory(p), exists(p)]).toEqual([p, st?.isFile() ?? false, st?.isDirectory() ?? false, existsSync(p)]);
    }
  });

  test("the probes' fast miss: Bun.file().lastModified of a missing path is the value src/_fs.ts takes for 'nothing there'", () => {
    // If a Bun answers something else, the checks above still pass (every probe is then asked precisely), only slower.
    const d = tree();
    for (const p of [join(d, "nope.ts"), join(d, "nope/x.ts"), join(d, "a.ts/x"), join(d, "broken.ts")])
      expect(Bun.file(p).lastModified).toBe(4503599627370495);
    for (const p of [join(d, "a.ts"), join(d, "sub"), join(d, "epoch.ts"), join(d, "link.ts")]) expect(Bun.file(p).lastModified).not.toBe(4503599627370495);
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
