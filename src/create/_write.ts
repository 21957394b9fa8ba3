// Writing a template's files all at once or not at all. Everything is first written into a staging folder next to
// the target (same file system), then renamed into place: a new project folder is the staging folder itself, renamed
// in one step; files into an existing folder one by one, each replaced file kept aside until the end. On any failure
// what was placed is taken back and the replaced files are restored, so a failure half-way leaves the folder as it was.
// Each folder is made once (no recursive mkdir per file) and a new folder leaves no staging folder to remove.
import { existsSync, mkdirSync, renameSync, rmdirSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";

/** One file to write: `path` relative to the target folder. */
export interface PlannedFile {
  path: string;
  text: string;
  /** It exists already (replaced: only with --force, or the scaffolder's own edit of conf.ts). */
  exists: boolean;
}

/** Folders `dir` needs created, outermost first (none when it exists). */
function missingDirs(dir: string): string[] {
  const out: string[] = [];
  for (let d = dir; !existsSync(d); d = dirname(d)) {
    out.unshift(d);
    if (dirname(d) === d) break;
  }
  return out;
}

/**
 * Write `files` under `target`. A target that does not exist is made in one rename of a fully written folder;
 * `beforePlace(staged)` runs on that folder first (to derive files from what was written). Throws after undoing
 * everything when any step fails.
 */
export async function writeFiles(target: string, files: PlannedFile[], beforePlace?: (staged: string) => Promise<PlannedFile[]>): Promise<PlannedFile[]> {
  const fresh = !existsSync(target);
  const made = fresh ? missingDirs(dirname(target)) : [];
  const undo: Array<() => void> = [];
  let stage: string | undefined;
  try {
    for (const d of made) {
      mkdirSync(d);
      undo.push(() => rmdirSync(d));
    }
    stage = makeStage(fresh ? dirname(target) : target);
    const all = [...files];
    if (fresh && !beforePlace) {
      // The staging folder is the new folder: one rename places it, nothing is left to remove.
      writeTree(stage, files);
      renameSync(stage, target);
      stage = undefined;
      return all;
    }
    const root = join(stage, "files");
    mkdirSync(root);
    writeTree(root, files);
    if (beforePlace) {
      // The staged copy of the target keeps the target's own name, so what reads it (a project's name) sees the real one.
      const named = join(stage, "named");
      mkdirSync(named);
      const view = join(named, basename(target));
      renameSync(root, view);
      const extra = await beforePlace(view);
      for (const f of extra) put(join(view, f.path), f.text);
      all.push(...extra);
      renameSync(view, root);
    }
    if (fresh) {
      renameSync(root, target);
      undo.push(() => rmSync(target, { recursive: true, force: true }));
    } else {
      const backup = join(stage, "backup");
      for (const f of all) place(target, root, backup, f, undo);
    }
    rmSync(stage, { recursive: true, force: true });
    return all;
  } catch (e) {
    for (const u of undo.reverse()) {
      try {
        u();
      } catch {
        // keep undoing the rest
      }
    }
    if (stage) rmSync(stage, { recursive: true, force: true });
    throw e;
  }
}

/** A new, empty staging folder in `parent` (`.pop-create-*`, made with the usual permissions: a new project keeps them). */
function makeStage(parent: string): string {
  for (let i = 0; ; i++) {
    const dir = join(parent, `.pop-create-${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
    try {
      mkdirSync(dir);
      return dir;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST" || i >= 9) throw e;
    }
  }
}

/** Write `files` under the empty folder `root`: each folder they need made once, parents first, then each file. */
function writeTree(root: string, files: readonly PlannedFile[]): void {
  const dirs = new Set<string>();
  for (const f of files) for (let d = dirname(f.path); d !== "." && !dirs.has(d); d = dirname(d)) dirs.add(d);
  for (const d of [...dirs].sort((a, b) => a.length - b.length)) mkdirSync(join(root, d));
  for (const f of files) writeFileSync(join(root, f.path), f.text);
}

function put(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

/** Move one staged file into place, keeping what it replaces aside; each step pushes its undo. */
function place(target: string, root: string, backup: string, f: PlannedFile, undo: Array<() => void>): void {
  const dest = join(target, f.path);
  for (const d of missingDirs(dirname(dest))) {
    mkdirSync(d);
    undo.push(() => rmdirSync(d));
  }
  if (existsSync(dest)) {
    const kept = join(backup, f.path);
    mkdirSync(dirname(kept), { recursive: true });
    renameSync(dest, kept);
    undo.push(() => renameSync(kept, dest));
  }
  renameSync(join(root, f.path), dest);
  undo.push(() => unlinkSync(dest));
}
