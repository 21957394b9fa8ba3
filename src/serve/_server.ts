// The HTTP side of `pop serve`: one Bun.serve whose fetch handler routes POST / to a served function, answers
// GET / (an example), /refs, /health and /metrics, checks the bearer token, bounds the body, counts everything,
// and drains on stop (no new requests, the calls in flight finish).
import { createHash, timingSafeEqual } from "node:crypto";
import { type Hub, RefError, resolveFunction, withCaller } from "../hub/index.ts";
import { messageOf, quote, TimeoutError } from "../errors.ts";
import { Metrics } from "./_metrics.ts";
import { RefIndex, type Target } from "./_refs.ts";
import { type CallRequest, type RefList, statusOf, wireError, type WireError } from "./_wire.ts";

/** Options of `startServer`. */
export interface ServeOptions {
  /** Serve this sub's functions (refs relative to it); every sub but pop's when undefined. */
  sub?: string | undefined;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Bearer token every request must carry. */
  token?: string | undefined;
  /** Largest request body, in bytes (default 1 MiB). */
  maxBody?: number;
  /** Per-call timeout in milliseconds: a call still running then is answered 504 (it runs on). */
  timeout?: number | undefined;
  /** Milliseconds stop() waits for the calls in flight (default 30000; 0 waits for ever); then it fails naming them. */
  drainTimeout?: number;
}

/** A running server. */
export interface Server {
  url: string;
  port: number;
  hostname: string;
  metrics: Metrics;
  index: RefIndex;
  /**
   * Stop taking requests, wait for the calls in flight (bounded by drainTimeout: past it, rejects with a
   * TimeoutError naming how many were left), close the listener. Calling it twice returns the same promise.
   */
  stop(): Promise<void>;
}

/** How long stop() waits for the calls in flight by default, in milliseconds. */
export const DRAIN_TIMEOUT = 30_000;

/** The default limit on a request body: 1 MiB. */
export const MAX_BODY = 1024 * 1024;

const JSON_HEADERS = { "content-type": "application/json" };

/**
 * Serve a hub's functions over HTTP.
 * @example
 * const server = startServer(hub, { sub: "rpc", port: 0 });
 * await fetch(server.url, { method: "POST", body: '{"ref": "math.fib", "kwargs": {"num": 11}}' }); // {"ref":"math.fib","result":89}
 */
export function startServer(hub: Hub, opts: ServeOptions = {}): Server {
  const metrics = new Metrics();
  const index = new RefIndex(hub, opts.sub);
  for (const t of index.list()) metrics.declare(t.ref);
  const maxBody = opts.maxBody ?? MAX_BODY;
  const tokenHash = opts.token === undefined ? undefined : digest(opts.token);
  const timeout = opts.timeout && opts.timeout > 0 ? opts.timeout : undefined;
  let draining = false;
  let stopping: Promise<void> | undefined;
  let idle: (() => void) | undefined;
  // Rejected when the drain times out: each call still awaited then is answered 504, not cut off by a reset.
  let abandon: (e: Error) => void = () => {};
  const abandoned = new Promise<never>((_, reject) => (abandon = reject));
  abandoned.catch(() => {});

  const answer = (status: number, body: unknown, headers?: Record<string, string>): Response => {
    metrics.request(status);
    return new Response(JSON.stringify(body), { status, headers: headers ? { ...JSON_HEADERS, ...headers } : JSON_HEADERS });
  };
  const fail = (status: number, error: WireError, ref?: string, headers?: Record<string, string>) =>
    answer(status, ref === undefined ? { error } : { ref, error }, headers);
  const usage = (status: number, message: string, ref?: string, headers?: Record<string, string>) =>
    fail(status, { code: "POP_USAGE", message, name: "UsageError" }, ref, headers);

  const call = async (target: Target, args: unknown[], caller: string): Promise<Response> => {
    metrics.inFlight++;
    const t0 = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const fn = target.module[target.name] as (...a: unknown[]) => unknown;
      // --trace and --audit name the client as the call's caller.
      let result = withCaller(hub, caller, () => fn(...args));
      if (result instanceof Promise) {
        result =
          timeout === undefined
            ? await Promise.race([result, abandoned])
            : await Promise.race([result, abandoned, new Promise((_, rej) => (timer = setTimeout(() => rej(timedOut(target, timeout)), timeout)))]);
      }
      let text: string;
      try {
        text = JSON.stringify(result === undefined ? { ref: target.ref } : { ref: target.ref, result });
      } catch (e) {
        throw new Error(
          `${quote(target.full)} returned a value that cannot be sent as JSON: ${messageOf(e).replace(/\.$/, "")}; return plain data (no cycles, no bigints)`,
        );
      }
      metrics.call(target.ref, (performance.now() - t0) / 1000);
      metrics.request(200);
      return new Response(text, { headers: JSON_HEADERS });
    } catch (e) {
      const status = statusOf(e);
      metrics.call(target.ref, (performance.now() - t0) / 1000, status);
      return fail(status, wireError(e), target.ref);
    } finally {
      if (timer) clearTimeout(timer);
      if (--metrics.inFlight === 0 && idle) idle();
    }
  };

  const notJson = (e: unknown) =>
    usage(400, `request body is not JSON (${messageOf(e)}); send {"ref": "mod.fn", "kwargs": {...}} or {"ref": "mod.fn", "args": [...]}`);

  const post = async (req: Request): Promise<Response> => {
    const header = req.headers.get("content-length");
    let body: unknown;
    if (header !== null) {
      // The usual request: its length is known up front, and Bun parses the JSON as it reads it.
      const length = Number(header);
      if (length > maxBody) return usage(413, `request body of ${length} bytes is over the limit of ${maxBody} bytes (--max-body)`);
      try {
        body = await req.json();
      } catch (e) {
        return e instanceof SyntaxError ? notJson(e) : usage(400, `cannot read the request body: ${messageOf(e)}`);
      }
    } else {
      // Streamed without a length: read it, counting bytes, and stop reading at the limit.
      let text: string;
      try {
        const read = await readBounded(req, maxBody);
        if (read === undefined) return usage(413, `request body is over the limit of ${maxBody} bytes (--max-body)`);
        text = read;
      } catch (e) {
        return usage(400, `cannot read the request body: ${messageOf(e)}`);
      }
      try {
        body = JSON.parse(text);
      } catch (e) {
        return notJson(e);
      }
    }
    if (!body || typeof body !== "object" || Array.isArray(body) || typeof (body as CallRequest).ref !== "string")
      return usage(400, `request body must be a JSON object with a "ref" string, e.g. {"ref": "mod.fn", "kwargs": {...}}`);
    const { ref, kwargs, args } = body as CallRequest;
    let callArgs: unknown[];
    if (args !== undefined && kwargs !== undefined) return usage(400, `give "args" or "kwargs", not both`, ref);
    if (args !== undefined) {
      if (!Array.isArray(args)) return usage(400, `"args" must be a JSON array of positional arguments, e.g. [11]`, ref);
      callArgs = args;
    } else if (kwargs !== undefined) {
      if (!kwargs || typeof kwargs !== "object" || Array.isArray(kwargs)) return usage(400, `"kwargs" must be a JSON object, e.g. {"num": 11}`, ref);
      callArgs = [kwargs];
    } else callArgs = [];
    const target = index.get(ref);
    if (!target) return fail(404, wireError(unknownRef(hub, opts.sub, ref)), ref);
    const ip = server.requestIP(req);
    return call(target, callArgs, ip ? `http ${ip.address}` : "http");
  };

  const server = Bun.serve({
    hostname: opts.host ?? "127.0.0.1",
    port: opts.port ?? 8888,
    // The limit is checked here (by Content-Length before reading, or while reading a streamed body), so every 413
    // carries the JSON error; Bun's own limit (an empty 413) is only a backstop far above it.
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    fetch(req) {
      if (tokenHash && !authorized(req, tokenHash))
        return usage(401, "missing or wrong bearer token: send the header Authorization: Bearer <token> (the server's --token or POP_TOKEN)", undefined, {
          "www-authenticate": 'Bearer realm="pop serve"',
        });
      const path = pathOf(req.url);
      if (draining) {
        if (path === "/health") return answer(503, { status: "draining" }, { connection: "close" });
        return usage(503, "the server is shutting down (draining); send the request to another instance or retry later", undefined, { connection: "close" });
      }
      const method = req.method;
      if (path === "/") {
        if (method === "POST") return post(req);
        if (method === "GET" || method === "HEAD") return example(req);
        return usage(405, `method ${method} is not allowed on "/": POST a call, or GET an example`, undefined, { allow: "GET, HEAD, POST" });
      }
      // 405 for a route there is with a method it does not take; a route there is not is 404 whatever the method.
      if (method !== "GET" && method !== "HEAD" && (path === "/health" || path === "/refs" || path === "/metrics"))
        return usage(405, `method ${method} is not allowed on ${quote(path)}: use GET`, undefined, { allow: "GET, HEAD" });
      if (path === "/health") return answer(200, { status: "ok", refs: index.list().length });
      if (path === "/refs") {
        const list: RefList = { sub: opts.sub ?? null, refs: index.list().map((t) => t.info) };
        return answer(200, list);
      }
      if (path === "/metrics") {
        const text = metrics.render(); // this request is counted in the next scrape
        metrics.request(200);
        return new Response(text, { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } });
      }
      return usage(404, `no route ${quote(path)}: POST / calls a function; GET /, /refs, /health and /metrics answer`);
    },
    error(e) {
      return usage(500, `internal error: ${messageOf(e)}`);
    },
  });

  const example = (req: Request): Response => {
    const all = index.list();
    const first = all.find((t) => !t.ref.split(".").includes("init")) ?? all[0];
    const body = JSON.stringify({ ref: first?.ref ?? "mod.fn", ...(first ? exampleArgs(first.info.params) : { kwargs: {} }) });
    const auth = tokenHash ? ` -H "Authorization: Bearer $POP_TOKEN"` : "";
    const host = req.headers.get("host") ?? `${server.hostname}:${server.port}`;
    const text = [
      `example: curl http://${host}${auth} -d '${body}'`,
      `POST / takes {"ref", "kwargs": {...}} or {"ref", "args": [...]}; GET /refs lists the ${all.length} functions served${opts.sub ? ` (sub "${opts.sub}", refs relative to it)` : ""}; GET /health, GET /metrics`,
      "",
    ].join("\n");
    metrics.request(200);
    return new Response(text, { headers: { "content-type": "text/plain; charset=utf-8" } });
  };

  const hostname = server.hostname ?? opts.host ?? "127.0.0.1";
  const url = `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${server.port}`;
  return {
    url,
    port: server.port!,
    hostname,
    metrics,
    index,
    stop() {
      stopping ??= (async () => {
        draining = true;
        const closing = server.stop(false); // no new connections; requests on open ones are answered 503
        const bound = opts.drainTimeout ?? DRAIN_TIMEOUT;
        let timer: ReturnType<typeof setTimeout> | undefined;
        if (metrics.inFlight > 0) {
          const left = await new Promise<number>((r) => {
            idle = () => r(0);
            if (bound > 0) timer = setTimeout(() => r(metrics.inFlight), bound);
          });
          clearTimeout(timer);
          if (left > 0) {
            // Answer the abandoned calls (504) and give those answers a moment to go out before the connections close.
            abandon(new TimeoutError(`the server stopped after ${bound} ms of draining (--drain-timeout) before this call settled; it was abandoned`, bound));
            let grace: ReturnType<typeof setTimeout> | undefined;
            await Promise.race([closing, new Promise<void>((r) => (grace = setTimeout(r, 1000)))]);
            clearTimeout(grace);
            server.stop(true);
            throw new TimeoutError(
              `the server stopped with ${left} call${left > 1 ? "s" : ""} still running after ${bound} ms of draining (--drain-timeout); ${left > 1 ? "they were" : "it was"} abandoned: raise --drain-timeout, or 0 to wait for ever`,
              bound,
            );
          }
        }
        await closing;
        server.stop(true);
      })();
      return stopping;
    },
  };
}

/** The request body as text, or undefined once it passes `max` bytes (the rest is not read). */
async function readBounded(req: Request, max: number): Promise<string | undefined> {
  if (!req.body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const q = url.indexOf("?", start);
  return q < 0 ? url.slice(start) : url.slice(start, q);
}

function digest(s: string): Buffer {
  return createHash("sha256").update(s).digest();
}

/** The bearer token compared in constant time (both sides hashed first, so the length does not leak either). */
function authorized(req: Request, want: Buffer): boolean {
  const h = req.headers.get("authorization");
  if (!h || !/^bearer /i.test(h)) return false;
  return timingSafeEqual(digest(h.slice(7).trim()), want);
}

/** Why a ref is not served: the hub's own answer (its suggestion, a module's load error) where it has one. */
function unknownRef(hub: Hub, sub: string | undefined, ref: string): Error {
  const full = sub === undefined ? ref : `${sub}.${ref}`;
  const what = `no function ${quote(ref)}${sub === undefined ? "" : ` in sub "${sub}"`}`;
  const list = "GET /refs lists the functions served";
  // A ref given with the served sub's name in front (calc.math.fib to a server of calc): refs are relative to it.
  if (sub !== undefined && ref.startsWith(`${sub}.`)) {
    const rel = ref.slice(sub.length + 1);
    try {
      resolveFunction(hub, `${sub}.${rel}`);
      return new RefError(`${what}: refs here are relative to sub "${sub}", so send ${quote(rel)} (${list})`, ref, rel);
    } catch {
      // not that either: the usual answer below
    }
  }
  if (ref.split(".").some((p) => !/^[A-Za-z$][\w$-]*$/.test(p)) || (sub === undefined && ref.split(".")[0] === "pop"))
    return new RefError(`${what} is served; ${list}`, ref);
  try {
    resolveFunction(hub, full);
  } catch (e) {
    if (e instanceof RefError) {
      const hint =
        e.suggestion && (sub === undefined || e.suggestion.startsWith(`${sub}.`)) ? e.suggestion.slice(sub === undefined ? 0 : sub.length + 1) : undefined;
      return new RefError(hint ? `${what}; did you mean ${quote(hint)}? (${list})` : `${what}; ${list}`, ref, hint);
    }
    if (e instanceof Error) return e;
  }
  return new RefError(`${what} is served; ${list}`, ref);
}

function timedOut(target: Target, ms: number): Error {
  return new TimeoutError(`${quote(target.full)} did not settle within ${ms} ms (--timeout); the call was answered 504`, ms);
}

/**
 * The example's arguments, from the function's parameters: a destructured first parameter gives kwargs (`{ num = 10 }`
 * gives {"num": 10}, `{ a }: { a: number }` gives {"a": 1}); positional ones give args (`a: number, b: number` gives [1, 1]).
 */
export function exampleArgs(params: string): { kwargs: Record<string, unknown> } | { args: unknown[] } {
  const m = /^\{([^{}]*)\}(?:\s*:\s*\{([^{}]*)\})?/.exec(params.trim());
  if (m) {
    const kwargs: Record<string, unknown> = {};
    for (const part of m[1]!.split(",")) {
      const [key, dflt] = part.split("=").map((x) => x.trim());
      if (!key || !/^[A-Za-z_$][\w$]*$/.test(key)) continue;
      const type = m[2] ? new RegExp(`(?:^|[;,\\s])${key.replace(/\$/g, "\\$")}\\??\\s*:\\s*([^;,]+)`).exec(m[2])?.[1] : undefined;
      kwargs[key] = exampleValue(dflt, type);
    }
    return { kwargs };
  }
  // Positional parameters, when they are simple enough to split on commas (no generics, objects or arrays of types).
  if (params.trim() === "" || /[{}<>[\]()]/.test(params)) return { kwargs: {} };
  const args: unknown[] = [];
  for (const part of params.split(",")) {
    const [head, dflt] = part.split("=").map((x) => x.trim());
    if (!head || head.startsWith("...")) break;
    const [, type] = head.split(":").map((x) => x.trim());
    args.push(exampleValue(dflt, type));
  }
  return { args };
}

/** A value for one example argument: its default when it is JSON, else one of its type (1, "text", true), else null. */
function exampleValue(dflt: string | undefined, type: string | undefined): unknown {
  if (dflt !== undefined) {
    try {
      return JSON.parse(dflt);
    } catch {
      return null;
    }
  }
  const t = type?.trim() ?? "";
  if (/^number\b/.test(t)) return 1;
  if (/^string\b/.test(t)) return "text";
  if (/^boolean\b/.test(t)) return true;
  return null;
}
