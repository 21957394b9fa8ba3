import { readFileSync } from "node:fs";
import { join } from "node:path";

/** A repository file's stamp (its Bun.hash, hex), computed when pop is bundled (import it `with { type: "macro" }`). */
export function stampOf(path: string): string {
  return Bun.hash(readFileSync(join(import.meta.dir, "../..", path))).toString(16);
}
