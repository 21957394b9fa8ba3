// The wire protocol of `pop serve`, shared by the server (src/serve) and the remote-sub client (src/remote):
// POST / {"ref", "kwargs" | "args"} answers 200 {"ref", "result"} or {"ref"?, "error": {code, message, name}}.
import { ContractError, PopError, RefError, TimeoutError } from "../errors.ts";

/** A call as posted: `kwargs` is the one object argument (POP style), `args` the positional arguments. */
export interface CallRequest {
  ref: string;
  kwargs?: Record<string, unknown>;
  args?: unknown[];
}

/** An error as answered: a PopError code, the message, the error class's name; `field` for a contract's failed field. */
export interface WireError {
  code: string;
  message: string;
  name: string;
  field?: string;
}

/** A function the server exposes, as GET /refs lists it: ref relative to the served sub, its parameters as written, its JSDoc summary. */
export interface RefInfo {
  ref: string;
  params: string;
  doc: string | null;
}

/** The body of GET /refs. `sub` is the served sub (refs are relative to it), null when the server serves every sub. */
export interface RefList {
  sub: string | null;
  refs: RefInfo[];
}

/** The HTTP status for an error a call ended with: 404 unknown ref, 400 invalid arguments, 504 timeout, else 500. */
export function statusOf(e: unknown): number {
  if (e instanceof RefError || (e instanceof PopError && e.name === "DisabledError")) return 404;
  if (e instanceof TimeoutError) return 504;
  // A contract refusing the arguments is the caller's mistake; one refusing the return value is the server's.
  if (e instanceof ContractError) return /^Invalid (return|yielded) value/.test(e.message) ? 500 : 400;
  return 500;
}

/** The wire form of anything thrown. */
export function wireError(e: unknown): WireError {
  const err = e instanceof Error ? e : undefined;
  const code = e instanceof PopError ? e.code : "POP_CALL";
  const message = err ? err.message : typeof e === "string" ? e : safeJson(e);
  const out: WireError = { code, message, name: err?.name ?? typeof e };
  if (e instanceof ContractError && e.field) out.field = e.field;
  return out;
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
