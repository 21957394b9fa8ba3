import { readFileSync } from "node:fs";
import { join } from "node:path";

/** A repository file's text, read when pop is bundled (import it `with { type: "macro" }`): built-in plugins' sources ship inside the executable. */
export function sourceOf(path: string): string {
  return readFileSync(join(import.meta.dir, "../..", path), "utf8");
}
