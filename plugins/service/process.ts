// Service type `process`: any command line.
//   pop add process --name web --set command="python3 -m http.server 8080" --set port=8080
import { isAbsolute, join } from "node:path";
import { type Hub, type LaunchSpec, type ServiceContext, tcpReady, z } from "pop";
import { commandSetting, common, envSetting, portSetting, signalSetting, splitCommand } from "./_common.ts";

/** command (a string split shell-like, or a list), env, cwd (relative: to the instance dir), port (readiness: it accepts connections; also $PORT). */
export const settings = z.strictObject({
  command: commandSetting,
  env: envSetting,
  cwd: z.string().min(1).optional(),
  port: portSetting.optional(),
  ...common,
});

type Settings = z.output<typeof settings>;

export const stopSignal = "SIGTERM";
export const stopTimeout = 10_000;
export const readyTimeout = 30_000;

/** How to start it: the command's words, its environment additions ($PORT when a port is set), its working directory (default: the instance dir). */
export function command(_hub: Hub, svc: ServiceContext): LaunchSpec {
  const s = svc.settings as Settings;
  const argv = typeof s.command === "string" ? splitCommand(s.command) : [...s.command];
  const env: Record<string, string> = { ...(s.port === undefined ? {} : { PORT: String(s.port) }), ...s.env };
  const cwd = s.cwd === undefined ? svc.dir : isAbsolute(s.cwd) ? s.cwd : join(svc.dir, s.cwd);
  return { argv, env, cwd };
}

/** Ready when its port accepts connections (no port: when it runs). */
export async function ready(_hub: Hub, svc: ServiceContext & { pid: number }): Promise<boolean | string> {
  const s = svc.settings as Settings;
  return s.port === undefined ? true : await tcpReady(s.port);
}

/** Task: the environment the service runs with (the agent's, plus its own settings). */
export function env(hub: Hub, svc: ServiceContext): Record<string, string> {
  return { ...(process.env as Record<string, string>), ...command(hub, svc).env };
}

/** Task: send a signal (default SIGHUP, e.g. to reload) to the service's process group on this machine. */
export function signal(_hub: Hub, svc: ServiceContext, name = "SIGHUP"): string {
  const sig = signalSetting.safeParse(name);
  if (!sig.success) throw new Error(`${JSON.stringify(name)} is not a signal name: use e.g. SIGHUP, SIGUSR1`);
  if (svc.pid === undefined) throw new Error(`service ${JSON.stringify(svc.name)} is not running on this machine`);
  process.kill(-svc.pid, sig.data);
  return `sent ${sig.data} to ${svc.name} (process group ${svc.pid})`;
}
