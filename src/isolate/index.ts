import type { Hub } from "../hub/_types.ts";
import { type Command, UsageError } from "../cli/_args.ts";

/** How an isolated sub runs: in a Bun Worker of this process, or in a child process of this executable. */
export type IsolateMode = "worker" | "process";

/** What the hub (src/hub, from a manifest, a conf or --isolate) hands to isolateSub. */
export interface IsolateOptions {
  mode: IsolateMode;
  /** The sub's folders on this machine (every plugin root's folder for it, in merge order). */
  folders: string[];
  /** Per-call timeout in milliseconds (--timeout); a call still running then fails with a TimeoutError naming the ref. */
  timeout?: number;
  /** process mode: the only environment variables the child may see (names). Undefined means none but PATH-free basics. */
  env?: string[];
  /** process mode: memory limit in MiB. */
  memory?: number;
  /** Where the options came from, for error messages: "--isolate rpc=worker", "plugins/pop.json", ... */
  source: string;
}

// Placeholder with the agreed interface, while isolation is written: its owner replaces this file's bodies.
/** Put sub `name` on the hub as an isolated sub: same hub.name.mod.fn(...) API, calls cross by message. */
export async function isolateSub(_hub: Hub, name: string, opts: IsolateOptions): Promise<void> {
  throw new UsageError(`isolating sub "${name}" (${opts.mode}) is not built yet`, opts.source, { hint: false });
}

/** The hidden command a process-isolated sub's child runs. */
export const CHILD_COMMAND: Command = {
  meta: { name: "__isolate-child", description: "isolated sub" },
  args: {},
  run() {
    throw new UsageError("process isolation is not built yet", "pop __isolate-child", { hint: false });
  },
};
