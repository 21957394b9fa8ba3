import { chmodSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { isFile } from "../_fs.ts";
import { join } from "../_path.ts";
import { messageOf } from "../errors.ts";
import { log } from "../output.ts";

/** Where pop keeps files of one build for every project (Bun's types, `pop test`'s runtime), best first. */
export function cacheRoots(): string[] {
  const home = homedir();
  const base = process.env.XDG_CACHE_HOME || (home ? join(home, ".cache") : undefined);
  return [...(base ? [join(base, "pop")] : []), join(tmpdir(), `pop-${process.getuid?.() ?? "user"}`)];
}

/** A cache root pop will not use: another user's, a link, or not a folder (`pop test` would run what it holds). */
export class UnsafeCacheError extends Error {}

/**
 * Make `root` a cache folder only this user can write, or throw: created with mode 0700; an existing one must be a
 * real folder (not a link) owned by this user. One that others can write is made private (0700) and emptied, since
 * anything in it may have been planted. Without that check, a `/tmp/pop-<uid>/` made in advance by another local user
 * would hand `pop test` their preload to run as this user.
 */
export function privateRoot(root: string): void {
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const uid = process.getuid?.();
  if (uid === undefined) return; // Windows: no owners or modes to check
  const st = lstatSync(root);
  if (st.isSymbolicLink() || !st.isDirectory()) throw new UnsafeCacheError(`"${root}" is a link or not a folder`);
  if (st.uid !== uid) throw new UnsafeCacheError(`"${root}" belongs to uid ${st.uid}, not to this user (uid ${uid})`);
  if ((st.mode & 0o022) === 0) return;
  chmodSync(root, 0o700); // first: from now on nobody else can add to it
  try {
    for (const name of readdirSync(root)) rmSync(join(root, name), { recursive: true, force: true });
  } catch (e) {
    throw new UnsafeCacheError(`"${root}" was writable by others and cannot be emptied (${(e as NodeJS.ErrnoException).code ?? messageOf(e)})`);
  }
  log.warn(`cache folder "${root}" was writable by others (mode ${(st.mode & 0o777).toString(8)}): made it private (700) and emptied it`);
}

/** The roots refused and warned about: once per run, though pop types and pop test each ask. */
const warned = new Set<string>();

/**
 * A folder `name` under the first cache root that is this user's alone (`privateRoot`) and has it or can take it,
 * filled by `fill(tmp, dir)` once: into a temporary sibling, renamed into place, `marker` last, so a folder with its
 * marker is always whole (a concurrent run that won the race keeps its copy, which is the same). Returns the folder,
 * or throws naming the places tried; a root refused as unsafe is also warned about, saying how to fix it.
 */
export function cachedFolder(name: string, marker: string, fill: (tmp: string, dir: string) => void): string {
  const tried: string[] = [];
  for (const root of cacheRoots()) {
    try {
      privateRoot(root);
    } catch (e) {
      if (e instanceof UnsafeCacheError && !warned.has(root))
        log.warn(`cache folder not used: ${e.message}; remove it, or set XDG_CACHE_HOME to a folder of your own`);
      warned.add(root);
      tried.push(`${root} (${e instanceof UnsafeCacheError ? "unsafe" : ((e as NodeJS.ErrnoException).code ?? messageOf(e))})`);
      continue;
    }
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
