import { ContractError } from "./_errors.ts";
import type { AnyFn, Chain, ContractContext, Hub, Schema } from "./_types.ts";

/**
 * The whole contracted call path: schemas in, pre contracts, the call (or a call
 * contract wrapping it), post contracts, schema out. Stays synchronous until some
 * step returns a promise, then continues asynchronously from that step.
 * No closures here: a closure capturing locals would cost a scope allocation per call.
 */
export function runChain(c: Chain, args: unknown[]): unknown {
  // ret is set up front so the context keeps one shape through the call.
  const ctx: ContractContext = { args, ref: c.ref, func: c.func, ret: undefined };
  if (c.schema) ctx.args = checkArgs(c, args);
  const pre = c.pre;
  for (let i = 0; i < pre.length; i++) {
    const r = pre[i]!(c.hub, ctx);
    if (r instanceof Promise) return finishAsync(c, ctx, r, i + 1);
  }
  let ret = c.call ? c.call(c.hub, ctx) : invoke(c.func, c.hub, ctx.args);
  if (ret instanceof Promise) return postAsync(c, ctx, ret, 0);
  const post = c.post;
  for (let i = 0; i < post.length; i++) {
    ctx.ret = ret;
    const r = post[i]!(c.hub, ctx);
    if (r instanceof Promise) return postAsync(c, ctx, keep(r, ret), i + 1);
    if (r !== undefined) ret = r;
  }
  return c.schema?.ret ? checkRet(c, ret) : ret;
}

/** `func(hub, ...args)` without the spread's cost for the usual one or two arguments. */
function invoke(func: AnyFn, hub: Hub, a: unknown[]): unknown {
  switch (a.length) {
    case 0:
      return func(hub);
    case 1:
      return func(hub, a[0]);
    case 2:
      return func(hub, a[0], a[1]);
    default:
      return func(hub, ...a);
  }
}

async function keep(r: Promise<unknown>, ret: unknown): Promise<unknown> {
  const v = await r;
  return v === undefined ? ret : v;
}

async function finishAsync(c: Chain, ctx: ContractContext, pending: Promise<unknown>, from: number): Promise<unknown> {
  await pending;
  for (let i = from; i < c.pre.length; i++) await c.pre[i]!(c.hub, ctx);
  const ret = c.call ? c.call(c.hub, ctx) : invoke(c.func, c.hub, ctx.args);
  return postAsync(c, ctx, ret, 0);
}

async function postAsync(c: Chain, ctx: ContractContext, pending: unknown, from: number): Promise<unknown> {
  let ret = await pending;
  for (let i = from; i < c.post.length; i++) {
    ctx.ret = ret;
    const r = await c.post[i]!(c.hub, ctx);
    if (r !== undefined) ret = r;
  }
  return c.schema?.ret ? checkRet(c, ret) : ret;
}

/**
 * `fn` with the hub as its first argument: what a module object holds for each function without contracts. An
 * arrow, not `fn.bind(undefined, hub)`: JSC inlines the arrow at a hub call site, while a bound function's call is
 * never inlined (in Bun 1.4.5, ~20 ns a call against ~1 ns; docs/benchmarks.md).
 */
export function bindHub(fn: AnyFn, hub: Hub): AnyFn {
  return (...args: unknown[]) => fn(hub, ...args);
}

/** A plain function calling the chain, built once per function at load time; a generator's chain is a generator. */
export function bindChain(c: Chain): AnyFn {
  if (!c.schema && c.pre.length === 0 && !c.call && c.post.length === 0) return bindHub(c.func, c.hub);
  if (c.gen === "async") return (...args: unknown[]) => runAsyncGenChain(c, args);
  if (c.gen === "sync") return (...args: unknown[]) => runGenChain(c, args);
  return (...args: unknown[]) => runChain(c, args);
}

/**
 * An async generator under contracts (POP's coroutine contracts): pre contracts once before the first chunk, the
 * call contract around the generator, then each chunk through the post contracts (`ctx.ret` is the chunk; a value
 * other than undefined replaces it) and the return schema.
 */
async function* runAsyncGenChain(c: Chain, args: unknown[]): AsyncGenerator<unknown, void, unknown> {
  const ctx: ContractContext = { args, ref: c.ref, func: c.func, ret: undefined };
  if (c.schema) ctx.args = checkArgs(c, args);
  for (let i = 0; i < c.pre.length; i++) await c.pre[i]!(c.hub, ctx);
  const it = (c.call ? await c.call(c.hub, ctx) : invoke(c.func, c.hub, ctx.args)) as AsyncIterable<unknown>;
  for await (const chunk of it) {
    let ret = chunk;
    for (let i = 0; i < c.post.length; i++) {
      ctx.ret = ret;
      const r = await c.post[i]!(c.hub, ctx);
      if (r !== undefined) ret = r;
    }
    yield c.schema?.ret ? parse(c.ref, c.schema.ret, ret, "yielded value") : ret;
  }
}

/** A generator under contracts: as the async one, synchronously (contracts returning promises are not awaited). */
function* runGenChain(c: Chain, args: unknown[]): Generator<unknown, void, unknown> {
  const ctx: ContractContext = { args, ref: c.ref, func: c.func, ret: undefined };
  if (c.schema) ctx.args = checkArgs(c, args);
  for (let i = 0; i < c.pre.length; i++) c.pre[i]!(c.hub, ctx);
  const it = (c.call ? c.call(c.hub, ctx) : invoke(c.func, c.hub, ctx.args)) as Iterable<unknown>;
  for (const chunk of it) {
    let ret = chunk;
    for (let i = 0; i < c.post.length; i++) {
      ctx.ret = ret;
      const r = c.post[i]!(c.hub, ctx);
      if (r !== undefined) ret = r;
    }
    yield c.schema?.ret ? parse(c.ref, c.schema.ret, ret, "yielded value") : ret;
  }
}

function checkArgs(c: Chain, args: unknown[]): unknown[] {
  const spec = c.schema!;
  if (!spec.arg && !spec.args) return args;
  const out = args.slice();
  if (spec.arg) out[0] = parse(c.ref, spec.arg, args[0], "argument");
  if (spec.args) {
    for (let i = 0; i < spec.args.length; i++) out[i] = parse(c.ref, spec.args[i]!, args[i], `argument ${i + 1}`);
  }
  return out;
}

function checkRet(c: Chain, ret: unknown): unknown {
  if (ret instanceof Promise) return ret.then((v) => parse(c.ref, c.schema!.ret!, v, "return value"));
  return parse(c.ref, c.schema!.ret!, ret, "return value");
}

function parse(ref: string, schema: Schema, value: unknown, what: string): unknown {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.map(String).join(".") : "";
  const where = field ? `${what} "${field}"` : what;
  const got = field ? pick(value, issue!.path) : value;
  // A key not given at all: said as missing, not as "received undefined (got undefined)".
  const missing = got === undefined && (issue as { code?: string } | undefined)?.code === "invalid_type";
  const why = missing
    ? `missing (${(issue!.message ?? "").replace(/^Invalid input: /, "").replace(/, received .*$/, "")})`
    : `${issue?.message ?? "rejected by schema"} (got ${show(got)})`;
  throw new ContractError(`Invalid ${where} for "${ref}": ${why}`, ref, field, { cause: r.error }, what.startsWith("argument"));
}

function pick(value: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let v: any = value;
  for (const k of path) v = v == null ? undefined : v[k as any];
  return v;
}

function show(v: unknown): string {
  // What JSON would print as null (Infinity, NaN) or not at all is shown as it is.
  if (v === undefined || typeof v === "number" || typeof v === "bigint") return typeof v === "bigint" ? `${v}n` : String(v);
  try {
    const s = JSON.stringify(v);
    return s.length > 60 ? `${s.slice(0, 57)}...` : s;
  } catch {
    return String(v);
  }
}
