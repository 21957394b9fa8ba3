// The CLI's output goes through pop's one output module (src/output.ts).
import { log } from "../output.ts";

export { errRaw, flushOutput, out, outJson, styles, toJson, useColor } from "../output.ts";

/** An error line on stderr: `pop: <text>`. */
export function err(text: string): void {
  log.error(text);
}
