// pop call's outcome as the user sees it: the result printed, or the function's failure as an error. Shared by the
// full command (src/cli/call.ts) and its lean path (src/cli/_lean.ts), which loads this only past a scalar result.
import { CallError, ContractError, locate, messageOf, PopError, quote, TimeoutError, UsageError } from "../errors.ts";
import { jsonReplacer } from "../output.ts";
import { NOT_SCALAR, scalarText } from "./_callcore.ts";

/** --timeout's own error names the ref already; anything else is the function's failure. */
export function callFailure(ref: string, e: unknown): unknown {
  if (e instanceof TimeoutError && e.message.startsWith(`call "${ref}"`)) return e;
  // The called function's own arguments refused by its schema: the command line's mistake, a usage error (exit 2).
  if (e instanceof ContractError && e.argument && e.ref === ref) return new UsageError(e.message, "pop call", { hint: false, cause: e });
  return new CallError(ref, e, locate(e));
}

/** The result as pop call prints it: plain scalars as JSON prints them (no trip through JSON.stringify's replacer), the rest as JSON. */
export function printable(ref: string, result: unknown, json: boolean): string | undefined {
  const scalar = scalarText(result, json);
  if (scalar !== NOT_SCALAR) return scalar;
  try {
    return JSON.stringify(result, resultReplacer, 2) ?? "null";
  } catch (e) {
    const why = e instanceof Lossy ? e.message : `${messageOf(e).replace(/\.$/, "")}; return plain data (no cycles) from it`;
    throw new PopError(`${quote(ref)} returned a value that cannot be printed as JSON: ${why}`, { cause: e });
  }
}

/** A value JSON would turn into null without a word (NaN, Infinity): the result would be wrong, not just ugly. */
class Lossy extends Error {}

/** pop's JSON of a result (errors, bigints, maps, sets as the log's JSON has them), typed arrays as arrays, NaN and Infinity refused. */
function resultReplacer(key: string, value: unknown): unknown {
  if (typeof value === "number" && !Number.isFinite(value))
    throw new Lossy(`${value}${key ? ` (at key ${JSON.stringify(key)})` : ""} has no JSON form; return a finite number, a string or null`);
  if (ArrayBuffer.isView(value) && !(value instanceof DataView))
    return Array.from(value as unknown as ArrayLike<number | bigint>, (x) => (typeof x === "bigint" ? String(x) : x));
  return jsonReplacer(key, value);
}
