// A process-isolated sub's memory limit, enforced from the host: the child's resident size (Linux /proc) is read every
// 50 ms, and a child over its limit is killed. Done from outside because a plugin in a tight loop never yields to a
// timer of its own, and an address-space rlimit (ulimit -v) kills JSC at start (it reserves tens of GB it never uses).
import { nodeFs } from "../_fs.ts";

const EVERY_MS = 50;

/** Resident memory of process `pid` in MiB, or undefined where /proc cannot tell (not Linux, the process gone). */
export function residentMiB(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(nodeFs().readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Math.round(Number(m[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether this system lets the host watch a child's memory. */
export function canWatchMemory(): boolean {
  return residentMiB(process.pid) !== undefined;
}

/** Call `over(rss)` once when `pid` goes over `limitMiB`. Returns the stop function. The timer never keeps the host alive. */
export function watchMemory(pid: number, limitMiB: number, over: (rssMiB: number) => void): () => void {
  const timer = setInterval(() => {
    const rss = residentMiB(pid);
    if (rss !== undefined && rss > limitMiB) {
      clearInterval(timer);
      over(rss);
    }
  }, EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
