// A remote sub whose server did not answer its function list (GET /refs) when it was added: the sub stays on the hub,
// failed, the way an in-process sub whose module failed to load does. Its function list is unknown, so every module
// name reached in it (hub.calc.math, pop call calc.math.fn) is a failed module whose error says why; a call that never
// reaches the sub runs as usual, and pop tree shows the sub with that failure.
import { type Hub, hubFailures, PluginLoadError } from "../hub/index.ts";
import { state } from "../hub/_meta.ts";
import { addPreloadedSub } from "../hub/_sub.ts";
import { newRecord } from "../hub/_module.ts";
import type { ModuleRecord, SubMeta } from "../hub/_types.ts";

/** Names any object is probed for (await, JSON, inspection, test matchers): never a module, so never a failure. */
const PROBES = new Set(["then", "toJSON", "constructor", "toString", "valueOf", "inspect", "asymmetricMatch", "$$typeof", "nodeType", "length", "prototype"]);

/** The name tree and failures show for the sub's unknown modules: "calc.*", every module of it. */
export const EVERY_MODULE = "*";

/**
 * Put sub `name` on the hub as unreachable: `cause` (the RemoteError or TimeoutError of its /refs fetch) is recorded
 * as a load failure and warned about once; every ref into the sub fails with it. Returns that failure.
 */
export function addUnreachableSub(hub: Hub, name: string, url: string, cause: Error): PluginLoadError {
  const meta = addPreloadedSub(hub, name, {});
  const failed = (mod: string): ModuleRecord => {
    const rec = newRecord(hub, meta, mod, url);
    const error = new PluginLoadError(rec.ref, { file: url }, cause.message, { cause });
    Object.assign(rec, { state: "failed", error, reason: error.reason, location: error.location });
    return rec;
  };
  const every = failed(EVERY_MODULE);
  meta.modules = new Unreachable(meta, failed, every);
  hubFailures(hub).push(every.error!);
  // The warning names the failure it stands for (ref "calc.*"): a command failing with it says it once (pop call).
  state(hub).warn(`${cause.message}; calls into sub "${name}" fail until pop is started again with its server up (under --watch: until the server answers)`, {
    code: every.error!.code,
    ref: every.error!.ref,
  });
  return every.error as PluginLoadError;
}

/** The module map of an unreachable sub: any module name a lookup asks for is there, failed with the sub's error. */
class Unreachable extends Map<string, ModuleRecord> {
  constructor(
    private readonly meta: SubMeta,
    private readonly failed: (mod: string) => ModuleRecord,
    every: ModuleRecord,
  ) {
    super([[EVERY_MODULE, every]]);
  }

  override get(key: string): ModuleRecord | undefined {
    const known = super.get(key);
    if (known || PROBES.has(key) || !/^[A-Za-z_$][\w$-]*$/.test(key) || this.meta.subs.has(key)) return known;
    const rec = this.failed(key);
    super.set(key, rec);
    return rec;
  }
}
