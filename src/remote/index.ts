// Remote subs: a sub on this hub whose functions run in a `pop serve --sub NAME` elsewhere. The function list
// comes from the server (GET /refs) when the sub is added; each function is a plain hub function that posts the
// call (POST /) and returns the result or throws what the remote call threw, so hub.name.mod.fn(...) reads the
// same as a local call, is traced by the hub's call monitor, and is listed by pop tree.
import { type Hub, hubFailures, hubWarn, state, subNames } from "../hub/index.ts";
import { addPreloadedSub, loadAll, type PreloadedModules } from "../hub/_sub.ts";
import { ConfigError, type PluginLoadError, quote, RemoteError, TimeoutError, UsageError } from "../errors.ts";
import { callRemote, type Connection, listRemote } from "./_client.ts";
import { addUnreachableSub } from "./_unreachable.ts";

export { callRemote, listRemote, remoteFailure, type Connection } from "./_client.ts";

/** What the hub (src/hub, from --remote SUB=URL, a conf or a manifest) hands to remoteSub. */
export interface RemoteOptions {
  /** Base URL of a `pop serve --sub NAME` of that sub, e.g. http://10.0.0.5:8888 */
  url: string;
  /** Per-call timeout in milliseconds (--timeout). */
  timeout?: number;
  /** Bearer token for that server (POP_TOKEN / the conf). */
  token?: string;
  /** Milliseconds the function list (GET /refs) may take (--load-timeout; default: the hub's load timeout; 0 for none). */
  loadTimeout?: number;
  /**
   * When the server cannot be reached or does not answer in time, keep the sub on the hub as failed (every call into
   * it throws that error, pop tree lists it) instead of throwing: what loading a hub does unless --strict.
   */
  tolerant?: boolean;
  /** Where the option came from, for error messages. */
  source: string;
}

/**
 * Put sub `name` on the hub as a remote sub: hub.name.mod.fn(...) calls go to a pop serve of it.
 * @example
 * await remoteSub(hub, "rpc", { url: "http://127.0.0.1:8888", source: "--remote rpc=http://127.0.0.1:8888" });
 * await hub.rpc.math.fib({ num: 11 }); // 89, computed by the server
 */
export async function remoteSub(hub: Hub, name: string, opts: RemoteOptions): Promise<void> {
  if (subNames(hub).includes(name))
    throw new UsageError(
      `${opts.source}: sub "${name}" is already on the hub; a remote sub replaces no local one (leave the local root out, or pick another name)`,
      opts.source,
      {
        hint: false,
      },
    );
  let url: URL;
  try {
    url = new URL(opts.url);
  } catch {
    throw new UsageError(`${opts.source}: ${quote(opts.url)} is not a URL; give the pop serve's address, e.g. http://127.0.0.1:8888`, opts.source, {
      hint: false,
    });
  }
  // Calls go to URL/ and the list to URL/refs: a query or a fragment would end up in the wrong place.
  if (url.search !== "" || url.hash !== "" || opts.url.includes("?") || opts.url.includes("#"))
    throw new UsageError(
      `${opts.source}: ${quote(opts.url)} has a query or a fragment (?... or #...); give the pop serve's address alone, e.g. ${url.origin}${url.pathname.replace(/\/+$/, "")}`,
      opts.source,
      { hint: false },
    );
  const conn: Connection = { name, url: url.href.replace(/\/+$/, ""), token: opts.token, timeout: opts.timeout };
  const loadTimeout = opts.loadTimeout ?? state(hub).loadTimeout;
  let list: Awaited<ReturnType<typeof listRemote>>;
  try {
    list = await listRemote(conn, loadTimeout);
  } catch (e) {
    // Not there, not answering in time, not a pop serve (a proxy's error page): that sub's load failure, like a module
    // that failed to import, so a command that never calls it runs on. A refused token is a mistake here: it stops.
    if (!opts.tolerant || !(e instanceof RemoteError || e instanceof TimeoutError)) throw e;
    watchList(hub, name, conn, loadTimeout, undefined, addUnreachableSub(hub, name, conn.url, e));
    return;
  }
  // A server of another sub would put its modules under this sub's name: plugin code calling hub.calc.math.add would
  // find hub.calc.shop instead. A mistake to fix, as a refused token is: it stops the command.
  if (list.sub !== null && list.sub !== name)
    throw new ConfigError(
      `${opts.source}: ${conn.url} serves sub ${quote(list.sub)}, not ${quote(name)}; point it at a "pop serve --sub ${name}" (or at one serving every sub)`,
    );
  // A server of every sub that has none of this name would give an empty sub: calls into it fail far from the cause.
  if (list.sub === null && !list.refs.some((r) => typeof r?.ref === "string" && r.ref.startsWith(`${name}.`))) {
    const subs = [...new Set(list.refs.map((r) => (typeof r?.ref === "string" ? r.ref.split(".")[0] : "")).filter(Boolean))].sort();
    throw new ConfigError(
      `${opts.source}: ${conn.url} serves no sub ${quote(name)} (it serves ${subs.join(", ") || "nothing"}); point it at a pop serve whose roots hold ${quote(name)}, or name one of those`,
    );
  }
  addPreloadedSub(hub, name, standIns(hub, name, conn, list));
  watchList(hub, name, conn, loadTimeout, JSON.stringify(list));
}

/**
 * --watch: the function list is asked for again every second (the server's own --watch may have reloaded a module
 * with functions added or removed, or a server down at the start is up now); a list that changed puts the sub back
 * with stand-ins for it, and a sub that was unreachable loses its recorded failure.
 */
function watchList(hub: Hub, name: string, conn: Connection, loadTimeout: number, listed: string | undefined, failure?: PluginLoadError): void {
  let last = listed;
  (state(hub).placedReload ??= new Map()).set(name, {
    url: conn.url,
    async reload() {
      if (!state(hub).subs.has(name)) return false; // taken off the hub (hub.pop.sub.remove)
      const now = await listRemote(conn, loadTimeout);
      const text = JSON.stringify(now);
      if (text === last || (now.sub !== null && now.sub !== name)) return false;
      last = text;
      if (failure) {
        const failures = hubFailures(hub);
        const at = failures.indexOf(failure);
        if (at >= 0) failures.splice(at, 1);
        failure = undefined;
      }
      // Installed now (stand-ins run no plugin code): what lists the loaded modules (pop serve's refs) sees the new ones.
      await loadAll(hub, addPreloadedSub(hub, name, standIns(hub, name, conn, now)), true);
      return true;
    },
  });
}

/** One preloaded module per module of the list, each function a plain hub function posting the call to the server. */
function standIns(hub: Hub, name: string, conn: Connection, list: Awaited<ReturnType<typeof listRemote>>): PreloadedModules {
  // A server of one sub answers refs relative to it; a server of every sub answers full refs: keep this sub's.
  const prefix = list.sub === null ? `${name}.` : "";
  const modules: PreloadedModules = {};
  const skipped: string[] = [];
  for (const info of list.refs) {
    if (typeof info?.ref !== "string" || !info.ref.startsWith(prefix)) continue;
    const parts = info.ref.slice(prefix.length).split(".");
    if (parts.length !== 2) {
      skipped.push(info.ref);
      continue;
    }
    const [mod, fn] = parts as [string, string];
    const m = (modules[mod] ??= { file: `${conn.url} (remote sub "${name}", module ${mod})`, exports: {}, source: "" });
    const wire = info.ref;
    const shown = `${name}.${mod}.${fn}`;
    m.exports[fn] = (_hub: Hub, ...args: unknown[]) => callRemote(conn, wire, args, shown);
    const params = typeof info.params === "string" ? info.params : "...args";
    m.source = (m.source ?? "") + `${info.doc ? `/** ${info.doc.replace(/\*\//g, "* /")} */\n` : ""}export async function ${fn}(hub, ${params}) {}\n`;
  }
  // Said once per set left out: under --watch the list is asked for again every second, and a change elsewhere in it
  // must not repeat the warning.
  const said = skippedSaid.get(hub) ?? new Map<string, string>();
  skippedSaid.set(hub, said);
  const key = skipped.join("\n");
  if (skipped.length > 0 && said.get(name) !== key)
    hubWarn(
      hub,
      `remote sub "${name}" (${conn.url}): ${skipped.length} function${skipped.length > 1 ? "s" : ""} in sub-subs left out (${skipped.slice(0, 3).join(", ")}); remote subs carry modules of the sub itself`,
    );
  said.set(name, key);
  return modules;
}

/** The refs each hub's remote subs last said they left out, by sub name. */
const skippedSaid = new WeakMap<Hub, Map<string, string>>();
