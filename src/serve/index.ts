// `pop serve`: a sub's functions over HTTP (the tutorial's rpc router, generalized). The server is _server.ts;
// this file is the command: options, the hub, the startup line, SIGTERM's drain.
import { closeOpenHubs, DiscoveryError, type Hub, loadHub, onHubClose, subNames, watchHub } from "../hub/index.ts";
import { reloadMessage } from "../hub/_watch.ts";
import { messageOf, quote } from "../errors.ts";
import { flushOutput, log, report } from "../output.ts";
import { type Command, UsageError } from "../cli/_args.ts";
import { HUB_ARGS, hubOptions, millis } from "../cli/_hubargs.ts";
import { out } from "../cli/_output.ts";
import { trapCallExit } from "../hub/_exit.ts";
import { DRAIN_TIMEOUT, MAX_BODY, type Server, startServer } from "./_server.ts";

export { DRAIN_TIMEOUT, MAX_BODY, type Server, type ServeOptions, startServer } from "./_server.ts";
export { Metrics } from "./_metrics.ts";
export type { CallRequest, RefInfo, RefList, WireError } from "./_wire.ts";

const PATH = "pop serve";

/** `pop serve [--plugins DIR]... [--sub NAME] [--host H] [--port P]`: serve a sub's functions over HTTP. */
const serve: Command = {
  meta: {
    name: "serve",
    description: "Serve a sub's functions over HTTP: POST {ref, kwargs|args}; GET / (an example), /refs, /health, /metrics (docs/serve.md)",
    examples: [
      "pop serve --plugins examples/poppy --sub rpc --port 8888",
      "pop serve --plugins examples/poppy --sub rpc --port 0 --json",
      "POP_TOKEN=secret pop serve --plugins examples/poppy --sub rpc --host 0.0.0.0",
    ],
  },
  args: {
    ...HUB_ARGS,
    sub: {
      type: "string",
      valueHint: "NAME",
      description: "Serve this sub only; refs are relative to it (math.fib). Default: every sub, full refs (rpc.math.fib)",
    },
    host: { type: "string", valueHint: "HOST", description: "Address to bind (default 127.0.0.1, loopback only; 0.0.0.0 for every interface)" },
    port: { type: "string", valueHint: "PORT", description: "Port to bind (default 8888; 0 picks a free one, printed on the first line)" },
    token: {
      type: "string",
      valueHint: "TOKEN",
      description:
        "Require Authorization: Bearer TOKEN on every request (env POP_TOKEN, which is also sent to --remote subs: a remote's own token goes in conf.ts REMOTE, docs/serve.md)",
    },
    "max-body": {
      type: "string",
      valueHint: "BYTES",
      description: `Largest request body accepted, in bytes (default ${MAX_BODY}); larger ones are answered 413`,
    },
    "drain-timeout": {
      type: "string",
      valueHint: "MS",
      description: `On SIGTERM, how long the calls in flight may take to finish (default ${DRAIN_TIMEOUT}; 0 waits for ever); past it the server exits 1 naming them`,
    },
    watch: {
      type: "boolean",
      description:
        "Reload a changed plugin file without restarting (calls in flight finish on the old version; an isolated sub restarts its side, a remote sub's function list is read again)",
    },
    json: { type: "boolean", description: "The startup line and log lines as JSON" },
  },
  async run({ args }) {
    // The CLI's own handlers, taken over below (not a plugin's).
    const cliHandlers = { SIGTERM: process.listeners("SIGTERM"), SIGINT: process.listeners("SIGINT") };
    const port = whole(args.port as string | undefined, "--port", 8888, 65535);
    const maxBody = whole(args["max-body"] as string | undefined, "--max-body", MAX_BODY, Number.MAX_SAFE_INTEGER);
    if (maxBody === 0) throw new UsageError(`invalid value for option --max-body: "0"; give a size in bytes, e.g. --max-body ${MAX_BODY}`, PATH);
    const rawDrain = args["drain-timeout"] as string | undefined;
    // Bounded like every timeout option: past the longest timer, setTimeout would fire at once.
    const drainTimeout =
      rawDrain === undefined ? DRAIN_TIMEOUT : millis(rawDrain, "option --drain-timeout", PATH, "e.g. --drain-timeout 30000, or 0 to wait for ever");
    const host = (args.host as string | undefined) ?? "127.0.0.1";
    if (host.trim() === "") throw new UsageError(`invalid value for option --host: ""; give an address, e.g. --host 127.0.0.1`, PATH);
    const token = tokenOf(args.token as string | undefined);
    const sub = args.sub as string | undefined;
    const opts = hubOptions(args, PATH);
    let hub: Hub;
    try {
      hub = await loadHub({ ...opts, load: "eager" });
    } catch (e) {
      if (e instanceof DiscoveryError) throw new UsageError(e.message, PATH, { cause: e, hint: false });
      throw e;
    }
    const known = subNames(hub).filter((n) => n !== "pop");
    if (sub === "pop")
      throw new UsageError(
        `sub "pop" is pop's own (hub.pop.sub, hub.pop.ref, ...) and is never served (subs: ${known.join(", ") || "none"}); pick one of those with --sub`,
        PATH,
        { hint: false },
      );
    if (sub !== undefined && !subNames(hub).includes(sub)) {
      throw new UsageError(
        `no sub ${quote(sub)} to serve (subs: ${known.join(", ") || "none"}); add its plugin root with --plugins DIR, or pick one of those with --sub`,
        PATH,
        { hint: false },
      );
    }
    let server: Server;
    try {
      server = startServer(hub, { sub, host, port, token, maxBody, drainTimeout, timeout: opts.callTimeout });
    } catch (e) {
      const code = (e as { code?: string }).code;
      const badHost =
        code === "EADDRNOTAVAIL"
          ? "no interface of this machine has that address"
          : code === "EINVAL" || code === "ENOTFOUND" || code === "EAI_NONAME"
            ? "it is neither an address of this machine nor a host name that resolves"
            : undefined;
      if (badHost)
        throw new UsageError(
          `invalid value for option --host: ${quote(host)}: ${badHost}; give one of its addresses, e.g. --host 127.0.0.1 (this machine only) or --host 0.0.0.0 (every interface)`,
          PATH,
          { hint: false, cause: e },
        );
      const why = code === "EADDRINUSE" ? "the address is in use" : messageOf(e);
      throw new UsageError(`cannot listen on ${host}:${port}: ${why}; pick another --port (0 picks a free one) or --host`, PATH, { hint: false, cause: e });
    }
    const refs = server.index.list().length;
    if (refs === 0) log.warn(`nothing to serve: ${sub ? `sub ${quote(sub)} has` : "the hub's subs have"} no loaded functions (run "pop tree" to see why)`);
    if (!token && !isLoopback(server.hostname))
      log.warn(`serving on ${server.hostname} without a token: anyone who can reach port ${server.port} can call every function; set --token or POP_TOKEN`);
    // The hub closing (SIGINT, SIGTERM, the end of the process) drains the server first: close hooks run before __shutdown__.
    onHubClose(hub, () => server.stop());
    if (args.watch) {
      const stop = watchHub(hub, {
        onReload: (ev) => {
          server.index.refresh();
          // The same line pop app --watch prints.
          log.info(reloadMessage(ev), { event: "reload", ref: ev.ref, file: ev.file });
        },
      });
      onHubClose(hub, stop);
    }
    // A served plugin never ends the server: process.exit() throws for as long as it serves (a call's function, one
    // still running after --timeout answered for it, a timer), and only pop's own stop (a signal's drain) exits.
    trapCallExit();
    drainOn(server, "SIGTERM", 0, cliHandlers.SIGTERM);
    drainOn(server, "SIGINT", 130, cliHandlers.SIGINT);
    if (args.json) out(JSON.stringify({ event: "listening", url: server.url, sub: sub ?? null, refs }));
    else
      out(`pop serve: listening on ${server.url} (${sub ? `sub "${sub}", ` : ""}${refs} function${refs === 1 ? "" : "s"}; GET ${server.url}/ for an example)`);
    await flushOutput();
    return undefined; // the server keeps the process alive
  },
};

export default serve;

/**
 * SIGTERM is the normal way to stop a server: stop taking requests, let the calls in flight finish, close the hub,
 * exit 0 (the CLI's own handler would exit 143). SIGINT (Ctrl-C) drains the same way and exits 130, as every pop
 * command does. The same signal again while draining exits at once (143, 130).
 */
function drainOn(server: Server, signal: "SIGTERM" | "SIGINT", code: number, replace: Array<(...a: any[]) => void>): void {
  for (const l of replace) process.off(signal, l);
  const now = signal === "SIGTERM" ? 143 : 130;
  process.on(signal, () => {
    if (draining) process.exit(now);
    draining = true;
    void server.stop(); // at once: once the line below is out, no new request is taken
    log.info(`${signal} received: draining (no new requests; calls in flight finish), then closing the hub; send it again to stop at once`, {
      event: "draining",
    });
    void (async () => {
      let exit = code;
      try {
        await closeOpenHubs();
      } catch (e) {
        exit = report(e);
      }
      log.info("stopped", { event: "stopped" });
      try {
        await flushOutput();
      } catch (e) {
        exit = report(e);
      }
      process.exit(exit);
    })();
  });
}

/** Set by the first SIGTERM or SIGINT: the server is draining. */
let draining = false;

/** The token: --token, else POP_TOKEN (empty means none); an empty --token is a mistake. */
function tokenOf(flag: string | undefined): string | undefined {
  if (flag !== undefined) {
    if (flag.trim() === "") throw new UsageError('invalid value for option --token: ""; give the token clients must send, or leave --token out', PATH);
    return flag;
  }
  const env = process.env.POP_TOKEN;
  return env && env.trim() !== "" ? env : undefined;
}

/** A whole number option within [0, max], or its default. */
function whole(raw: string | undefined, option: string, dflt: number, max: number): number {
  if (raw === undefined) return dflt;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) > max)
    throw new UsageError(`invalid value for option ${option}: ${quote(raw)} is not a whole number${max < 1e6 ? ` from 0 to ${max}` : ""}`, PATH);
  return Number(raw);
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host.startsWith("127.");
}
