// The deploy agent's front door: its commands (registered with the CLI in src/cli/_commands.ts), the agent, the
// ZooKeeper client and the layout. docs/deploy.md is the user's guide.
import type { Command } from "../cli/_args.ts";
import { AGENT_COMMANDS } from "./_agentcmds.ts";
import { COMMANDS as ADMIN } from "./_commands.ts";

/** Every deploy command by name: init, add, set, remove, deploy, undeploy, status, machines, start, fg, stop, run, logs. */
export const COMMANDS: Record<string, Command> = { ...ADMIN, ...AGENT_COMMANDS };

export { Agent } from "./_agent.ts";
export { paths, readService, type ServiceView } from "./_layout.ts";
export { deployOptions, detectMachineId, type DeployOptions } from "./_options.ts";
export type { ServiceContext, ServiceTypeModule, Zk } from "./_types.ts";
export { connectZk, isZkConnectionError } from "./_zk.ts";
