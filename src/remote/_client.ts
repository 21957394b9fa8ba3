// The client side of the `pop serve` wire protocol: one call (POST /) and the function list (GET /refs), with the
// server's answers turned back into the errors a local call would have thrown.
import { ConfigError, ContractError, messageOf, quote, RefError, RemoteError, TimeoutError, UsageError } from "../errors.ts";
import type { RefList, WireError } from "../serve/_wire.ts";

/** Where a remote sub lives and how to reach it. */
export interface Connection {
  /** The sub's name on this hub (for messages). */
  name: string;
  /** Base URL, without a trailing slash. */
  url: string;
  token?: string | undefined;
  /** Per-call timeout in milliseconds (0 or undefined: none). */
  timeout?: number | undefined;
}

/** Call `ref` (as the server names it) with positional `args`; resolves to its result or throws what it threw. */
export async function callRemote(conn: Connection, ref: string, args: unknown[], shown = ref): Promise<unknown> {
  let body: string;
  try {
    body = JSON.stringify({ ref, args });
  } catch (e) {
    throw new UsageError(`the arguments of ${quote(shown)} cannot be sent to remote sub "${conn.name}" (${conn.url}) as JSON: ${messageOf(e)}`, shown, {
      hint: false,
    });
  }
  const res = await request(conn, "/", shown, { method: "POST", body });
  const answer = await readJson(conn, res, shown);
  if (res.status === 200) return (answer as { result?: unknown }).result;
  throw remoteFailure(conn, shown, res.status, (answer as { error?: WireError }).error);
}

/**
 * The server's function list (GET /refs), part of loading the sub: bounded by `loadTimeout` milliseconds (the hub's
 * --load-timeout; 0 or undefined for none), not by the per-call timeout.
 */
export async function listRemote(conn: Connection, loadTimeout?: number): Promise<RefList> {
  const what = `remote sub "${conn.name}"`;
  const bound = loadTimeout && loadTimeout > 0 ? loadTimeout : undefined;
  const timedOut = (ms: number) =>
    `remote sub "${conn.name}" at ${conn.url} did not answer GET /refs within ${ms} ms (--load-timeout); check that "pop serve --sub ${conn.name}" runs there and answers, or raise --load-timeout`;
  const res = await request(conn, "/refs", what, { method: "GET" }, bound, timedOut);
  const answer = await readJson(conn, res, what);
  if (res.status !== 200) throw remoteFailure(conn, what, res.status, (answer as { error?: WireError }).error);
  const list = answer as RefList;
  if (!list || !Array.isArray(list.refs) || (list.sub !== null && typeof list.sub !== "string"))
    throw new RemoteError(`${conn.url}/refs did not answer a function list ({"sub", "refs": [...]}); is it a pop serve?`, conn.url);
  return list;
}

/** One request, bounded by `timeout` ms (default: the connection's per-call timeout); `timedOut` words the timeout. */
async function request(
  conn: Connection,
  path: string,
  what: string,
  init: RequestInit,
  timeout = conn.timeout && conn.timeout > 0 ? conn.timeout : undefined,
  // The words of an in-process call's --timeout (src/hub/_trace.ts), plus where the call went.
  timedOut = (ms: number) =>
    `call ${quote(what)} timed out after ${ms} ms; its result is abandoned (remote sub "${conn.name}" at ${conn.url}; raise the limit with --timeout MS, or 0 for none)`,
): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (conn.token) headers.authorization = `Bearer ${conn.token}`;
  try {
    return await fetch(conn.url + path, { ...init, headers, ...(timeout ? { signal: AbortSignal.timeout(timeout) } : {}) });
  } catch (e) {
    const err = e as { name?: string; code?: string };
    if (err.name === "TimeoutError" || err.name === "AbortError") throw new TimeoutError(timedOut(timeout ?? 0), timeout ?? 0, { cause: e });
    const why = err.code === "ECONNREFUSED" || err.code === "ConnectionRefused" ? "connection refused" : messageOf(e);
    throw new RemoteError(
      `cannot reach remote sub "${conn.name}" at ${conn.url} (${why}); start "pop serve --sub ${conn.name}" there, or fix the URL given to --remote`,
      conn.url,
      { cause: e },
    );
  }
}

async function readJson(conn: Connection, res: Response, what: string): Promise<unknown> {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    const clip = text.length > 80 ? `${text.slice(0, 77)}...` : text;
    throw new RemoteError(
      `${res.url || conn.url} (${what}) answered status ${res.status} with a body that is not JSON (${quote(clip)}); is it a pop serve?`,
      conn.url,
    );
  }
}

/** The error a remote failure stands for: a ref error (404), a contract or usage error (400), a timeout (504), the function's own error (500). */
export function remoteFailure(conn: Connection, ref: string, status: number, error: WireError | undefined): Error {
  const message = typeof error?.message === "string" ? error.message : `status ${status} without an error`;
  const where = `remote sub "${conn.name}" at ${conn.url}`;
  if (status === 404) return new RefError(`${message} (${where})`, ref);
  if (status === 401) return new ConfigError(`${where} refused the call (401): set the token it expects in POP_TOKEN`);
  if (status === 413) return new UsageError(`the arguments of ${quote(ref)} are too large for ${where}: ${message}`, ref, { hint: false });
  if (status === 504) return new TimeoutError(`${message} (${where})`, 0);
  if (status === 400)
    return error?.code === "POP_CONTRACT" ? new ContractError(message, ref, error.field ?? "") : new UsageError(`${message} (${where})`, ref, { hint: false });
  if (status === 503) return new RemoteError(`${where} is shutting down and took no new call: ${message}`, conn.url);
  if (status === 500 && error) {
    // The function's own error, as a local call would have thrown it: same name, same message.
    const e = new Error(message) as Error & { code?: string; remote?: string };
    e.name = typeof error.name === "string" && error.name !== "" ? error.name : "Error";
    if (error.code !== "POP_CALL") e.code = error.code;
    e.remote = conn.url;
    return e;
  }
  return new RemoteError(`${where} answered status ${status}: ${message}`, conn.url);
}
