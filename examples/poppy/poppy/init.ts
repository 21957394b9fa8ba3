import type { Hub } from "pop";

/** Runs when the poppy sub is added: like the tutorial's, it adds the rpc sub (DYNE in conf.ts says where it is). */
export async function __init__(hub: Hub): Promise<void> {
  hub.poppy.GREETING = "Hello World!";
  await hub.pop.sub.add({ dyneName: "rpc" });
}

/** The app's entry point (`pop app examples/poppy [--addr ADDR] [--port PORT]`): load the config, serve. */
export async function cli(hub: Hub): Promise<void> {
  await hub.pop.config.load(["poppy"], { cli: "poppy" });
  await hub.poppy.init.run(hub.OPT.poppy);
}

/** Start the rpc server with poppy's options. */
export async function run(hub: Hub, opts: { addr: string; port: number }): Promise<void> {
  await hub.rpc.init.run(opts);
}
