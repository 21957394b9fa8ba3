// The deploy options a command runs with (src/deploy/conf.ts, resolved by the config integrator), and this machine's id.
// node:fs, node:os and node:path are not imported: together ~1.8 ms of pop deploy's ~20 (src/_fs.ts, src/_path.ts).
import { nodeFs } from "../_fs.ts";
import { join } from "../_path.ts";
import { load } from "../config/index.ts";
import { ConfigError } from "../errors.ts";
import * as CONF from "./conf.ts";

export interface DeployOptions {
  zk: string;
  zkAuth: string | undefined;
  zkTimeout: number;
  root: string;
  machineId: string;
  stateDir: string;
}

/** The deploy flags pop's own parser collected, as the config integrator's command line. */
export const DEPLOY_FLAGS = ["zk", "zk-auth", "zk-timeout", "root", "machine-id", "state-dir"] as const;

/** Resolve the deploy options: defaults < pop.config.* < POP_ZK... < flags. A bad value is a ConfigError (exit 2). */
export async function deployOptions(flags: Record<string, unknown>, prog: string, opts: { needMachineId?: boolean } = {}): Promise<DeployOptions> {
  const argv: string[] = [];
  for (const f of DEPLOY_FLAGS) if (typeof flags[f] === "string") argv.push(`--${f}`, flags[f] as string);
  const r = await load({ roots: [] }, [CONF.NAME], { confs: { [CONF.NAME]: CONF }, cli: CONF.NAME, argv, prog, envName: false });
  const o = r.opt[CONF.NAME] as Record<string, unknown>;
  const root = String(o.root);
  if (!/^\/[^\s]*$/.test(root) || (root.length > 1 && root.endsWith("/"))) throw new ConfigError(`--root "${root}" is not a ZooKeeper path like /pop`);
  const machineId = String(o.machine_id) || (opts.needMachineId === false ? "" : detectMachineId());
  if (machineId && !/^[A-Za-z0-9][\w.:-]*$/.test(machineId))
    throw new ConfigError(`machine id "${machineId}" is not a name ZooKeeper paths can hold: use letters, digits, . _ : -`);
  const stateDir = String(o.state_dir) || join(homeDir(), ".pop", "agent", machineId || "unknown");
  return { zk: String(o.zk), zkAuth: String(o.zk_auth) || undefined, zkTimeout: Number(o.zk_timeout), root, machineId, stateDir };
}

/** The user's home folder: $HOME, else what the OS says. */
function homeDir(): string {
  return process.env.HOME || (require("node:os") as typeof import("node:os")).homedir();
}

/** /etc/machine-id, else the DMI product uuid, else an error saying how to set one. */
export function detectMachineId(): string {
  for (const file of ["/etc/machine-id", "/sys/class/dmi/id/product_uuid"]) {
    try {
      const id = nodeFs().readFileSync(file, "utf8").trim();
      if (id) return id;
    } catch {
      // next
    }
  }
  throw new ConfigError("no machine id: /etc/machine-id and /sys/class/dmi/id/product_uuid are missing; pass --machine-id ID (or set POP_MACHINE_ID)");
}
