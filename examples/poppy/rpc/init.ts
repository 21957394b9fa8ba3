import type { Hub } from "pop";

/** Runs when the rpc sub is added: its routes and (not yet started) server live on hub.rpc. */
export function __init__(hub: Hub): void {
  hub.rpc.ROUTES = { "/": "rpc.init.router" };
  hub.rpc.SERVER = undefined;
}

/** Serve every function of the rpc sub over HTTP with Bun.serve; prints the address it bound (port 0 picks a free one). */
export async function run(hub: Hub, { addr = "127.0.0.1", port = 8888 }: { addr?: string; port?: number } = {}): Promise<void> {
  hub.rpc.SERVER = Bun.serve({
    hostname: addr,
    port,
    fetch: (request) => {
      const route = hub.rpc.ROUTES[new URL(request.url).pathname];
      return route ? hub.pop.ref.last(route)(request) : new Response("not found\n", { status: 404 });
    },
  });
  console.log(`======== Running on http://${hub.rpc.SERVER.hostname}:${hub.rpc.SERVER.port} ========`);
  console.log("(Press CTRL+C to quit)");
}

/** Route `{"ref": "math.fib", "kwargs": {...}}` to hub.rpc.math.fib(kwargs) and answer `{"ref": result}`; no body gets an example. */
export async function router(hub: Hub, request: Request): Promise<Response> {
  let data: { ref?: unknown; kwargs?: unknown } = {};
  try {
    data = (await request.json()) as typeof data;
  } catch {
    data = {};
  }
  if (data && typeof data === "object" && typeof data.ref === "string") {
    let fn: unknown;
    try {
      fn = hub.pop.ref.last(`rpc.${data.ref}`);
    } catch (e) {
      return Response.json({ error: (e as Error).message }, { status: 404 });
    }
    if (typeof fn !== "function") return Response.json({ error: `"rpc.${data.ref}" is not a function` }, { status: 404 });
    try {
      return Response.json({ ref: await fn(data.kwargs ?? {}) });
    } catch (e) {
      return Response.json({ error: (e as Error).message }, { status: 500 });
    }
  }
  const { hostname, port } = hub.rpc.SERVER;
  // Bun.serve passes no body for GET, so the example sends the JSON as curl -d does by default: a POST.
  return new Response(`example: curl http://${hostname}:${port} -d '{"ref": "math.fib", "kwargs": {"num": "11"}}'\n`);
}
