import { ContractError } from "./_errors.ts";
import type { AnyFn, Chain, ContractContext, Hub, Schema } from "./_types.ts";

/**
 * The whole contracted call path: schemas in, pre contracts, the call (or a call
 * contract wrapping it), post contracts, schema out. Stays synchronous until some
 * step returns a promise, then continues asynchronously from that step.
 */
export function runChain(c: Chain, args: unknown[]): unknown {
  const ctx: ContractContext = { args, ref: c.ref, func: c.func };
  if (c.schema) ctx.args = checkArgs(c, args);
  const pre = c.pre;
  for (let i = 0; i < pre.length; i++) {
    const r = pre[i]!(c.hub, ctx);
    if (r instanceof Promise) return r.then(() => finishAsync(c, ctx, i + 1));
  }
  const ret = c.call ? c.call(c.hub, ctx) : c.func(c.hub, ...ctx.args);
  if (ret instanceof Promise) return ret.then((v) => runPostAsync(c, ctx, v, 0));
  return runPost(c, ctx, ret);
}

function runPost(c: Chain, ctx: ContractContext, ret: unknown): unknown {
  const post = c.post;
  for (let i = 0; i < post.length; i++) {
    ctx.ret = ret;
    const r = post[i]!(c.hub, ctx);
    if (r instanceof Promise) return r.then((v) => runPostAsync(c, ctx, v === undefined ? ret : v, i + 1));
    if (r !== undefined) ret = r;
  }
  return c.schema?.ret ? checkRet(c, ret) : ret;
}

async function finishAsync(c: Chain, ctx: ContractContext, from: number): Promise<unknown> {
  for (let i = from; i < c.pre.length; i++) await c.pre[i]!(c.hub, ctx);
  const ret = await (c.call ? c.call(c.hub, ctx) : c.func(c.hub, ...ctx.args));
  return runPostAsync(c, ctx, ret, 0);
}

async function runPostAsync(c: Chain, ctx: ContractContext, ret: unknown, from: number): Promise<unknown> {
  for (let i = from; i < c.post.length; i++) {
    ctx.ret = ret;
    const r = await c.post[i]!(c.hub, ctx);
    if (r !== undefined) ret = r;
  }
  return c.schema?.ret ? checkRet(c, ret) : ret;
}

/** A plain function calling the chain, built once per function at load time. */
export function bindChain(c: Chain): AnyFn {
  if (!c.schema && c.pre.length === 0 && !c.call && c.post.length === 0) return c.func.bind(undefined, c.hub);
  return (...args: unknown[]) => runChain(c, args);
}

/** The function bound to the hub, with no contracts: what `hub.sub.mod.fn` is in the common case. */
export function bindPlain(hub: Hub, fn: AnyFn): AnyFn {
  return fn.bind(undefined, hub);
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
  throw new ContractError(
    `Invalid ${where} for "${ref}": ${issue?.message ?? "rejected by schema"} (got ${show(got)})`,
    ref,
    field,
    { cause: r.error },
  );
}

function pick(value: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let v: any = value;
  for (const k of path) v = v == null ? undefined : v[k as any];
  return v;
}

function show(v: unknown): string {
  if (v === undefined) return "undefined";
  try {
    const s = JSON.stringify(v);
    return s.length > 60 ? `${s.slice(0, 57)}...` : s;
  } catch {
    return String(v);
  }
}
