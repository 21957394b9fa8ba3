// The two ways to run an isolated sub's side, behind one small interface: a Bun Worker of this process, or a child
// process of this executable (`pop __isolate-child`) over IPC. Each reports its messages and, once, how it ended.
import { nodeFs } from "../_fs.ts";
import { join } from "../_path.ts";
import { PopError } from "../errors.ts";
import type { HostMessage, SideMessage } from "./_protocol.ts";
import { watchMemory } from "./_memory.ts";
import { hideFromChildren } from "./_prctl.ts";

/** A running isolated side. */
export interface Link {
  send(m: HostMessage): void;
  /** End it now (terminate the worker, SIGKILL the process); `exit` then reports `why`. */
  kill(why: string): void;
  /** Keep this process alive while calls are in flight; let it exit when idle. */
  ref(): void;
  unref(): void;
}

/** What a link reports: each message, and its end (once, in words: "exited with code 3", "was killed by SIGKILL"). */
export interface LinkEvents {
  message(m: SideMessage): void;
  exit(why: string): void;
}

/** Options a process link takes. */
export interface ProcessLinkOptions {
  env?: string[] | undefined;
  memory?: number | undefined;
  /** pop owns stdout (--json): the child's standard output goes to the host's stderr, whatever writes it. */
  stdoutForData?: boolean | undefined;
}

/** Whether this code runs inside the compiled executable (its files live under /$bunfs/). */
const COMPILED = import.meta.path.startsWith("/$bunfs/") || import.meta.path.startsWith("B:\\~BUN\\");

/**
 * The worker's entry point: in the executable, an entry point of its own (scripts/build.ts lists it), which Bun
 * places under /$bunfs/root/ relative to the entry points' common folder (src/); from source, the file itself.
 */
function workerEntry(): string {
  if (!COMPILED) return join(import.meta.dir, "_worker.ts");
  const found = ["/$bunfs/root/isolate/_worker.js", "/$bunfs/root/src/isolate/_worker.js"].find((f) => nodeFs().existsSync(f));
  if (!found)
    throw new PopError("this pop was built without the worker entry point src/isolate/_worker.ts (scripts/build.ts must list it); use --isolate SUB=process");
  return found;
}

/** Run the side in a Bun Worker. */
export function startWorker(ev: LinkEvents): Link {
  const worker = new Worker(workerEntry());
  let ended = false;
  let killedWhy: string | undefined;
  const end = (why: string) => {
    if (ended) return;
    ended = true;
    ev.exit(killedWhy ?? why);
  };
  worker.addEventListener("message", (e: MessageEvent) => ev.message(e.data as SideMessage));
  worker.addEventListener("error", (e: Event) => {
    const err = e as ErrorEvent;
    end(`threw an uncaught ${err.error instanceof Error ? `${err.error.name}: ${err.error.message}` : errorLine(String(err.message))}`);
    worker.terminate();
  });
  worker.addEventListener("close", (e: Event) => {
    const code = (e as CloseEvent).code;
    end(code === 0 || code === undefined ? "exited" : `exited with code ${code}`);
  });
  return {
    send: (m) => worker.postMessage(m),
    kill(why) {
      killedWhy ??= why;
      worker.terminate();
    },
    ref: () => worker.ref(),
    unref: () => worker.unref(),
  };
}

/** Bun's text for an uncaught error in a worker holds the source around it: keep its "TypeError: ..." line (Bun writes a plain Error as "error: ..."). */
function errorLine(text: string): string {
  const line = (text.split("\n").find((l) => /^\w*error: /i.test(l.trim())) ?? text.split("\n")[0] ?? "").trim();
  return line.startsWith("error: ") ? `Error: ${line.slice(7)}` : line || "error";
}

/** Run the side in a child process of this executable, with only the granted environment and an optional memory limit. */
export function startProcess(opts: ProcessLinkOptions, ev: LinkEvents): Link {
  hideFromChildren(); // else the child reads the host's whole environment from /proc/<host>/environ
  const env: Record<string, string> = {};
  for (const k of opts.env ?? []) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  // The child's garbage collector sizes its heap to the limit (JSC's forceRAMSize), so it collects before the limit kills it.
  if (opts.memory) env.BUN_JSC_forceRAMSize = String(opts.memory * 1024 * 1024);
  const cmd = COMPILED ? [process.execPath, "__isolate-child"] : [process.execPath, join(import.meta.dir, "../cli.ts"), "__isolate-child"];
  let killedWhy: string | undefined;
  let stopWatch = () => {};
  const proc = Bun.spawn({
    cmd,
    env,
    stdin: "ignore",
    stdout: opts.stdoutForData ? 2 : "inherit",
    stderr: "inherit",
    serialization: "advanced",
    // Its own process group: a Ctrl-C at the terminal reaches the host, which closes the child itself.
    detached: true,
    ipc: (m) => ev.message(m as SideMessage),
    onExit(_p, code, signal) {
      stopWatch();
      ev.exit(killedWhy ?? (signal ? `was killed by ${signal}` : `exited with code ${code}`));
    },
  });
  const kill = (why: string) => {
    killedWhy ??= why;
    proc.kill("SIGKILL");
  };
  if (opts.memory)
    stopWatch = watchMemory(proc.pid, opts.memory, (rss) => kill(`went over its memory limit of ${opts.memory} MiB (resident ${rss} MiB) and was killed`));
  return {
    send: (m) => proc.send(m),
    kill,
    ref: () => proc.ref(),
    unref: () => proc.unref(),
  };
}
