// The per-build cache folder (Bun's types, pop test's runtime): filled once, and a folder left without its marker
// (an interrupted fill, an older layout) is replaced instead of making every run refill a temporary copy.
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cachedFolder } from "../src/types/_cache.ts";
import { tmp } from "./helpers.ts";

function withCache<T>(fn: (base: string) => T): T {
  const before = process.env.XDG_CACHE_HOME;
  const base = tmp("pop-cache-");
  process.env.XDG_CACHE_HOME = base;
  try {
    return fn(base);
  } finally {
    if (before === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = before;
  }
}

const fill = (calls: string[]) => (into: string) => {
  calls.push(into);
  writeFileSync(join(into, "data"), "new");
  writeFileSync(join(into, "done"), "");
};

describe("cachedFolder", () => {
  test("fills once, then reuses the folder", () =>
    withCache((base) => {
      const calls: string[] = [];
      const a = cachedFolder("x", "done", fill(calls));
      const b = cachedFolder("x", "done", fill(calls));
      expect(a).toBe(join(base, "pop", "x"));
      expect(b).toBe(a);
      expect(calls.length).toBe(1);
    }));

  test("a folder without its marker is replaced in the cache, not worked around in a temporary copy each run", () =>
    withCache((base) => {
      const stale = join(base, "pop", "x");
      mkdirSync(join(stale, "old-layout"), { recursive: true });
      writeFileSync(join(stale, "data"), "old");
      const calls: string[] = [];
      const dir = cachedFolder("x", "done", fill(calls));
      expect(dir).toBe(stale);
      expect(readFileSync(join(dir, "data"), "utf8")).toBe("new");
      expect(existsSync(join(dir, "old-layout"))).toBe(false);
      cachedFolder("x", "done", fill(calls));
      expect(calls.length).toBe(1);
    }));
});
