// The other end of process isolation: `pop __isolate-child`, started by a host hub with an IPC channel, serves one sub.
import { type Command, UsageError } from "../cli/_args.ts";
import { type HostMessage, type SideMessage, toWire } from "./_protocol.ts";
import { dieWithParent } from "./_prctl.ts";
import { serveSide } from "./_side.ts";

/** The hidden command a process-isolated sub's child runs: it serves the sub over IPC until the host closes it or goes away. */
export const CHILD_COMMAND: Command = {
  meta: { name: "__isolate-child", description: "Serve an isolated sub to the hub that started this process (not for direct use)" },
  args: {},
  run() {
    if (typeof process.send !== "function")
      throw new UsageError("pop __isolate-child is started by a hub for a process-isolated sub, not by hand", "pop __isolate-child", { hint: false });
    // Linux: the kernel ends this child when the host dies; elsewhere the "disconnect" below ends an idle one.
    dieWithParent();
    if (process.ppid === 1) process.exit(0); // the host died before that took effect
    serve();
    // Returns at once, as a server command does: the channel and the sub's own work keep the process running. (A
    // promise pending in the CLI's top-level await would make Bun spin a core once the event loop is otherwise empty.)
    return undefined;
  },
};

const QUIET_MS = 20;

function serve(): void {
  const handle = serveSide(
    (m: SideMessage) => void process.send!(m),
    () => process.exit(0),
  );
  // Whether this child still has work of its own (a server, a timer) is what keeps the host running, as it would
  // in-process. Once no message has come for QUIET_MS, the IPC channel stops holding the event loop; if the loop
  // then empties, "beforeExit" tells the host, and the channel holds the child again. (Checking after every call
  // would add a message and the beforeExit machinery to each round trip.)
  const channel = (process as { channel?: { ref(): void; unref(): void } }).channel;
  let calls = 0;
  const quiet = setTimeout(() => channel?.unref(), QUIET_MS);
  process.on("beforeExit", () => {
    process.send!({ t: "idle", calls } satisfies SideMessage);
    channel?.ref();
  });
  process.on("message", (m) => {
    if ((m as HostMessage).t === "call") calls++;
    quiet.refresh();
    handle(m as HostMessage);
  });
  // An error no call catches ends the child, as it ends a worker; the host is told what it was first.
  const fatal = (e: unknown) => {
    process.send!({ t: "uncaught", error: toWire(e) } satisfies SideMessage, undefined, undefined, () => process.exit(70));
    setTimeout(() => process.exit(70), 1000).unref();
  };
  process.on("uncaughtException", fatal);
  process.on("unhandledRejection", fatal);
  // The host went away (killed, crashed): nobody is left to serve.
  process.on("disconnect", () => process.exit(0));
}
