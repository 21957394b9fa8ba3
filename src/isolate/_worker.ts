// The entry point of a worker-isolated sub, built into the executable as its own entry point (/$bunfs/root/isolate/_worker.js).
import type { HostMessage, SideMessage } from "./_protocol.ts";
import { serveSide } from "./_side.ts";

declare const self: Worker;

const handle = serveSide(
  (m: SideMessage) => self.postMessage(m),
  () => {}, // the host terminates the worker once it has the "closed" message
);
self.onmessage = (ev: MessageEvent<HostMessage>) => handle(ev.data);
