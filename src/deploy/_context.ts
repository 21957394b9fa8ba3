// What every deploy command starts from: its options resolved, a ZooKeeper session, the layout's paths, and a hub
// holding the `service` sub (built-in types plus those of the plugin roots given with --plugins or POP_PLUGIN_PATH).
import type { ArgDef } from "../cli/_args.ts";
import { ConfigError, UsageError } from "../errors.ts";
import type { Hub } from "../hub/index.ts";
import { layoutVersion, LAYOUT_VERSION, paths, type Paths } from "./_layout.ts";
import { type DeployOptions, deployOptions } from "./_options.ts";
import type { ServiceTypeModule, Zk } from "./_types.ts";
// The hub and the full ZooKeeper client are imported when first needed: pop deploy and undeploy load neither.
import { connectOnce, type OneShotZk } from "./_zkwire.ts";

/** The options every deploy command takes (also from pop.config.* and POP_ZK, POP_ZK_AUTH, ...: src/deploy/conf.ts). */
export const DEPLOY_ARGS: Record<string, ArgDef> = {
  zk: { type: "string", valueHint: "HOSTS", description: "ZooKeeper hosts, host:port[,host:port...][/chroot] (env POP_ZK; default 127.0.0.1:2181)" },
  "zk-auth": {
    type: "string",
    valueHint: "USER:PASSWORD",
    description: "Digest auth: pop's nodes get an ACL other ZooKeeper users cannot change (env POP_ZK_AUTH)",
  },
  "zk-timeout": {
    type: "string",
    valueHint: "MS",
    description: "Milliseconds to connect and for each request before giving up with exit 3 (env POP_ZK_TIMEOUT; default 5000)",
  },
  root: { type: "string", valueHint: "PATH", description: "The ZooKeeper node holding pop's layout (env POP_ROOT; default /pop)" },
  "machine-id": { type: "string", valueHint: "ID", description: "This machine's id (env POP_MACHINE_ID; default /etc/machine-id)" },
  "state-dir": { type: "string", valueHint: "DIR", description: "The agent's pid files, logs and service folders (env POP_STATE_DIR)" },
  plugins: { type: "string", multiple: true, valueHint: "DIR", description: "A plugin root whose service/ sub adds service types" },
};

export const JSON_ARG: Record<string, ArgDef> = { json: { type: "boolean", description: "Print data as JSON" } };

/** A deploy command's session: close it when done (the CLI's funnel reports what went wrong). */
export interface DeployContext {
  opts: DeployOptions;
  zk: Zk;
  p: Paths;
  close(): Promise<void>;
}

/** Resolve options and connect; with `layout`, the layout must exist (pop init). */
export async function openDeploy(args: Record<string, unknown>, prog: string, o: { layout?: boolean; needMachineId?: boolean } = {}): Promise<DeployContext> {
  const opts = await deployOptions(args, prog, o.needMachineId === false ? { needMachineId: false } : {});
  const { connectZk } = await import("./_zk.ts");
  const zk = await connectZk({ hosts: opts.zk, timeoutMs: opts.zkTimeout, ...(opts.zkAuth ? { auth: opts.zkAuth } : {}) });
  const p = paths(opts.root);
  const ctx: DeployContext = { opts, zk, p, close: () => zk.close() };
  if (o.layout !== false) {
    try {
      checkLayout(await layoutVersion(zk, p), p, opts, prog);
    } catch (e) {
      await zk.close();
      throw e;
    }
  }
  return ctx;
}

/**
 * Run `fn` with a one-shot session (_zkwire.ts: the wire protocol without the full client, for commands that read a
 * few nodes and write one), closed afterwards whatever happens. The caller checks the layout (checkLayout).
 */
export async function withOneShot<T>(
  args: Record<string, unknown>,
  prog: string,
  o: { needMachineId?: boolean },
  fn: (d: { opts: DeployOptions; zk: OneShotZk; p: Paths }) => Promise<T>,
): Promise<T> {
  const opts = await deployOptions(args, prog, o.needMachineId === false ? { needMachineId: false } : {});
  // Pipelined: the command's first reads ride on the handshake's round trip; a failure to connect surfaces from them.
  const zk = await connectOnce({ hosts: opts.zk, timeoutMs: opts.zkTimeout, ...(opts.zkAuth ? { auth: opts.zkAuth } : {}) }, { pipeline: true });
  try {
    return await fn({ opts, zk, p: paths(opts.root) });
  } finally {
    await zk.close();
  }
}

/** The layout read (`layoutVersion`) must exist (pop init) and be the version this pop reads; else a usage error saying what to do. */
export function checkLayout(v: number | undefined, p: Paths, opts: DeployOptions, prog: string): void {
  if (v === undefined) throw new UsageError(`no pop layout at ${p.root} on ZooKeeper ${opts.zk}: run "pop init" first (or pass --root)`, prog, { hint: false });
  if (v !== LAYOUT_VERSION)
    throw new UsageError(`the layout at ${p.root} is version ${v}, this pop reads version ${LAYOUT_VERSION}: "pop init --force" resets it`, prog, {
      hint: false,
    });
}

type ServiceTypes = typeof import("./_servicetypes.ts");
let types: ServiceTypes | undefined;

/** The service types' module (built-ins, settings checks), loaded with the first service hub: commands that need no type (deploy, undeploy, machines) never load it, nor zod. */
export function serviceTypes(): ServiceTypes {
  if (!types) throw new Error("serviceTypes() before serviceHub()");
  return types;
}

/** A hub whose `service` sub has the built-in service types and those of the plugin roots named. */
export async function serviceHub(args: Record<string, unknown>): Promise<Hub> {
  types ??= await import("./_servicetypes.ts");
  const { addBuiltinSub, loadHub } = await import("../hub/index.ts");
  const hub = await loadHub({ plugins: (args.plugins as string[] | undefined) ?? [], env: process.env, cwd: process.cwd() });
  await addBuiltinSub(hub, "service", types.BUILTIN_SERVICE);
  return hub;
}

/** The service type module `name` on the hub, or a usage error listing the types there are. */
export function serviceType(hub: Hub, name: string, prog: string): ServiceTypeModule {
  const known = Object.keys(hub.service ?? {});
  let mod: unknown;
  try {
    mod = hub.pop.ref.last(`service.${name}`);
  } catch (e) {
    if (!/^[A-Za-z][\w-]*$/.test(name) || (e as { code?: string }).code === "POP_REF") {
      const list = [...new Set([...known, ...Object.keys(serviceTypes().BUILTIN_SERVICE)])].sort().join(", ");
      throw new UsageError(`no service type "${name}" (types: ${list}); add one as service/${name}.ts in a plugin root given with --plugins`, prog, {
        hint: false,
      });
    }
    throw e;
  }
  const why = mod && typeof mod === "object" ? serviceTypes().checkServiceType(name, mod as Record<string, unknown>) : `service.${name} is not a module`;
  if (why !== true) throw new ConfigError(why);
  return hubFirst(mod as Record<string, unknown>) as ServiceTypeModule;
}

/**
 * A module object of the hub holds its functions with the hub already bound in (and its contracts applied); a
 * service type's contract is the plugin's own shape, hub first. This puts the hub parameter back in front, so
 * `processSpec(hub, mod, svc)` and a task call go through the hub (contracts, trace) like any hub call.
 */
function hubFirst(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj))
    out[k] = typeof v === "function" ? (_hub: unknown, ...a: unknown[]) => (v as (...x: unknown[]) => unknown)(...a) : v;
  return out;
}
