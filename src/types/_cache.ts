import { mkdirSync, renameSync, rmSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { isFile } from "../_fs.ts";
import { join } from "../_path.ts";
import { messageOf } from "../errors.ts";

/** Where pop keeps files of one build for every project (Bun's types, `pop test`'s runtime), best first. */
export function cacheRoots(): string[] {
  const home = homedir();
  const base = process.env.XDG_CACHE_HOME || (home ? join(home, ".cache") : undefined);
  return [...(base ? [join(base, "pop")] : []), join(tmpdir(), `pop-${process.getuid?.() ?? "user"}`)];
}

/**
 * A folder `name` under the first cache root that has it or can take it, filled by `fill(tmp, dir)` once: into a
 * temporary sibling, renamed into place, `marker` last, so a folder with its marker is always whole (a concurrent
 * run that won the race keeps its copy, which is the same). Returns the folder, or throws naming the places tried.
 */
export function cachedFolder(name: string, marker: string, fill: (tmp: string, dir: string) => void): string {
  const tried: string[] = [];
  for (const root of cacheRoots()) {
    const dir = join(root, name);
    if (isFile(join(dir, marker))) return dir;
    const tmp = `${dir}.${process.pid}.tmp`;
    try {
      rmSync(tmp, { recursive: true, force: true });
      mkdirSync(tmp, { recursive: true });
      fill(tmp, dir);
      try {
        renameSync(tmp, dir);
      } catch (e) {
        if (isFile(join(dir, marker))) rmSync(tmp, { recursive: true, force: true });
        else {
          // A folder without its marker is an interrupted fill or an older layout: never whole, so replace it.
          if ((e as NodeJS.ErrnoException).code !== "ENOTEMPTY" && (e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
          rmSync(dir, { recursive: true, force: true });
          renameSync(tmp, dir);
        }
      }
      return dir;
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      tried.push(`${root} (${(e as NodeJS.ErrnoException).code ?? messageOf(e)})`);
    }
  }
  throw new Error(`no cache folder can be written: ${tried.join(", ")}; set XDG_CACHE_HOME to a writable folder`);
}
