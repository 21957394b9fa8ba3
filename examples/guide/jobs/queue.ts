import type { Hub } from "pop";

/** Runs when the module loads: the sub's state lives on its namespace. */
export function __init__(hub: Hub): void {
  hub.jobs.QUEUE = [] as string[];
  hub.jobs.LOG = ["queue up"];
}

/** Runs when the hub closes, or the sub is removed, or the module is reloaded: let go of what __init__ took. */
export function __shutdown__(hub: Hub): void {
  hub.jobs.LOG.push(`queue down, ${hub.jobs.QUEUE.length} jobs left`);
}

/** Queue a job; returns how many are waiting. */
export function push(hub: Hub, { job }: { job: string }): number {
  hub.jobs.QUEUE.push(job);
  return hub.jobs.QUEUE.length;
}

/** Watch two calls with a monitor, then take the sub off the hub (its __shutdown__ runs). */
export async function demo(hub: Hub): Promise<{ traced: string[]; log: string[] }> {
  const traced: string[] = [];
  const undo = hub.pop.trace.add({ after: (c: { ref: string; args: unknown[]; outcome: string }) => traced.push(`${c.ref}(${JSON.stringify(c.args[0])}) ${c.outcome}`) });
  hub.jobs.queue.push({ job: "build" });
  hub.jobs.queue.push({ job: "test" });
  undo(); // from here on, calls go straight to the functions again
  hub.jobs.queue.push({ job: "deploy" });
  const log: string[] = hub.jobs.LOG;
  await hub.pop.sub.remove("jobs");
  return { traced, log };
}
