// Readiness checks of the deploy agent: one attempt each (a port that accepts a connection, an HTTP answer below 500),
// and `waitReady`, which repeats a check until it passes or a bound runs out. A check answers `true`, or a string
// saying why the service is not ready yet (what `pop status` shows).
import { messageOf } from "../errors.ts";

/** One readiness attempt: true, or why not yet. */
export type ReadyCheck = () => Promise<boolean | string> | boolean | string;

/** Does `host:port` accept a TCP connection? One attempt, bounded by `timeoutMs` (default 1000). */
export async function tcpReady(port: number, host = "127.0.0.1", timeoutMs = 1000): Promise<true | string> {
  const where = `${host}:${port}`;
  return await new Promise<true | string>((resolve) => {
    let done = false;
    const finish = (v: true | string, sock?: { end(): void }) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      try {
        sock?.end();
      } catch {
        // already closed
      }
      resolve(v);
    };
    const timer = setTimeout(() => finish(`port ${where} did not answer within ${timeoutMs} ms`), timeoutMs);
    Bun.connect({
      hostname: host,
      port,
      socket: {
        open: (sock) => finish(true, sock),
        data: () => {},
        error: (_sock, e) => finish(`port ${where} refused: ${messageOf(e)}`),
        connectError: (_sock, e) => finish(`port ${where} does not accept connections: ${messageOf(e)}`),
      },
    }).catch((e: unknown) => finish(`port ${where} does not accept connections: ${messageOf(e)}`));
  });
}

/** Does `url` give an HTTP answer below 500? One attempt, bounded by `timeoutMs` (default 2000). */
export async function httpReady(url: string, timeoutMs = 2000): Promise<true | string> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: "manual" });
    await res.body?.cancel();
    return res.status < 500 ? true : `${url} answered HTTP ${res.status}`;
  } catch (e) {
    return `${url} did not answer: ${messageOf(e)}`;
  }
}

/** Options of waitReady. */
export interface WaitReadyOptions {
  /** Give up after this long (default 30000). */
  timeoutMs?: number;
  /** Between attempts (default 200). */
  intervalMs?: number;
  /** Stop waiting (e.g. the service is being stopped): resolves with "cancelled". */
  signal?: AbortSignal;
}

/**
 * Repeat `check` until it passes: resolves `true`, or, once `timeoutMs` has passed, why it is still not ready.
 * @example
 * const r = await waitReady(() => tcpReady(8080), { timeoutMs: 10_000 });
 * if (r !== true) throw new Error(r);
 */
export async function waitReady(check: ReadyCheck, opts: WaitReadyOptions = {}): Promise<true | string> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const intervalMs = opts.intervalMs ?? 200;
  const deadline = Date.now() + timeoutMs;
  let last = "no check answered";
  for (;;) {
    if (opts.signal?.aborted) return "cancelled";
    try {
      const r = await check();
      if (r === true) return true;
      last = r === false ? "the check answered false" : r;
    } catch (e) {
      last = `the check failed: ${messageOf(e)}`;
    }
    const left = deadline - Date.now();
    if (left <= 0) return `not ready after ${timeoutMs} ms: ${last}`;
    await pause(Math.min(intervalMs, left), opts.signal);
  }
}

/** The wait between two attempts of a check (not a synchronisation: the check itself decides). */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
