// pop's own path helpers (src/_path.ts) must give node:path's POSIX results: checked on hand-picked and generated paths.
import { describe, expect, test } from "bun:test";
import { posix as node } from "node:path";
import { posixPath as own } from "../src/_path.ts";

const SAMPLES = [
  "",
  ".",
  "..",
  "/",
  "//",
  "///a",
  "a",
  "a/",
  "a//",
  "/a",
  "/a/",
  "a/b",
  "a/b/",
  "a/./b",
  "a/../b",
  "../a",
  "../../a/b",
  "a/b/../..",
  "a/b/../../..",
  "/..",
  "/../a",
  "/a/../../b",
  "./",
  "./a",
  "a/.",
  "a/..",
  ".a",
  "a.",
  "..a",
  "a..",
  "/a/b.ts",
  "a/b.test.ts",
  "/x/y//z/",
  "a/b/c/../../d/./e//",
  "/tmp/pop-tests-x/p/rpc/math.ts",
  "rpc",
  "rpc/",
  "~/a",
  "a b/c d",
  "/é/ü",
  "a\\b",
];

function generated(n: number): string[] {
  const parts = ["a", "b", "..", ".", "", "rpc", "x.ts", "/"];
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) % parts.length;
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    let p = "";
    for (let j = next(); j >= 0; j--) p += parts[next()] + (next() % 2 ? "/" : "");
    out.push(p);
  }
  return out;
}

const ALL = [...SAMPLES, ...generated(400)];

describe("src/_path.ts matches node:path (posix)", () => {
  test("normalize, dirname, basename, isAbsolute", () => {
    for (const p of ALL) {
      expect([p, own.normalize(p)]).toEqual([p, node.normalize(p)]);
      expect([p, own.dirname(p)]).toEqual([p, node.dirname(p)]);
      expect([p, own.basename(p)]).toEqual([p, node.basename(p)]);
      expect([p, own.basename(p, ".ts")]).toEqual([p, node.basename(p, ".ts")]);
      expect([p, own.isAbsolute(p)]).toEqual([p, node.isAbsolute(p)]);
    }
  });

  test("join and resolve of pairs and triples", () => {
    for (let i = 0; i < ALL.length; i++) {
      const a = ALL[i]!;
      const b = ALL[(i * 7 + 3) % ALL.length]!;
      const c = ALL[(i * 13 + 5) % ALL.length]!;
      expect([a, b, own.join(a, b)]).toEqual([a, b, node.join(a, b)]);
      expect([a, b, c, own.join(a, b, c)]).toEqual([a, b, c, node.join(a, b, c)]);
      expect([a, b, own.resolve(a, b)]).toEqual([a, b, node.resolve(a, b)]);
      expect([a, b, c, own.resolve(a, b, c)]).toEqual([a, b, c, node.resolve(a, b, c)]);
    }
    expect(own.join()).toBe(node.join());
    expect(own.resolve()).toBe(node.resolve());
  });

  test("relative", () => {
    for (let i = 0; i < ALL.length; i++) {
      const a = ALL[i]!;
      const b = ALL[(i * 11 + 1) % ALL.length]!;
      expect([a, b, own.relative(a, b)]).toEqual([a, b, node.relative(a, b)]);
      expect([a, own.relative(process.cwd(), a)]).toEqual([a, node.relative(process.cwd(), a)]);
    }
  });
});
