// Whether a folder is a pop project, for `pop test` and `pop types`: what they would type (and test), not any folder.
import { readFileSync } from "node:fs";
import { join } from "../_path.ts";
import { isFile } from "../_fs.ts";

/** The files that make a folder a plugin root of its own (the hub's conf.ts names, and a manifest). */
const MARKERS = ["conf.ts", "conf.mts", "conf.js", "conf.mjs", "pop.json"];

/** Whether `dir` holds a conf.ts (or .mts, .js, .mjs), a pop.json, or a package.json with a "pop" field. */
export function isProject(dir: string): boolean {
  if (MARKERS.some((f) => isFile(join(dir, f)))) return true;
  try {
    const json = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as unknown;
    return typeof json === "object" && json !== null && "pop" in json;
  } catch {
    return false; // no package.json, or one that is not JSON: pop types would say so, once the folder is a project
  }
}
