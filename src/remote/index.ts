import type { Hub } from "../hub/_types.ts";
import { UsageError } from "../cli/_args.ts";

/** What the hub (src/hub, from --remote SUB=URL, a conf or a manifest) hands to remoteSub. */
export interface RemoteOptions {
  /** Base URL of a `pop serve --sub NAME` of that sub, e.g. http://10.0.0.5:8888 */
  url: string;
  /** Per-call timeout in milliseconds (--timeout). */
  timeout?: number;
  /** Bearer token for that server (POP_TOKEN / the conf). */
  token?: string;
  /** Where the option came from, for error messages. */
  source: string;
}

// Placeholder with the agreed interface, while remote subs are written: its owner replaces this file's bodies.
/** Put sub `name` on the hub as a remote sub: hub.name.mod.fn(...) calls go to a pop serve of it. */
export async function remoteSub(_hub: Hub, name: string, opts: RemoteOptions): Promise<void> {
  throw new UsageError(`remote sub "${name}" (${opts.url}) is not built yet`, opts.source, { hint: false });
}
