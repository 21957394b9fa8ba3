// The CLI's output goes through pop's one output module (src/output.ts); errors go through its funnel, `report`,
// called from src/cli/_main.ts: commands throw, they do not print error lines of their own.
export { errRaw, flushOutput, out, outJson, styles, toJson, useColor } from "../output.ts";
