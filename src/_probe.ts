// The cheapest file-system question Bun answers: is nothing at this path? One stat, no node:fs. Used by src/_fs.ts
// and by pop call's lean path (src/cli/_lean.ts), which runs before the rest of pop's code is loaded: this file
// imports nothing.

/** What Bun 1.4's `Bun.file(path).lastModified` answers for a path where nothing is (2^52 - 1): no file's time. */
const NO_FILE = 4503599627370495;

/**
 * Whether nothing is at `path`, known from one stat: `Bun.file().lastModified` (~4 us) answers NO_FILE there, where
 * a `Bun.Glob` probe costs ~15 us, and most of pop's probes miss (init files, contract folders, other extensions).
 * Any other answer (a time, an mtime of 0 included) is "maybe": the caller asks precisely. A Bun that answers
 * something else for a missing path only makes every probe precise (test/fs.test.ts checks the value).
 */
export function surelyMissing(path: string): boolean {
  try {
    return Bun.file(path).lastModified === NO_FILE;
  } catch {
    return false;
  }
}
