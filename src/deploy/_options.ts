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
  const zk = String(o.zk);
  const bad = badHosts(zk);
  if (bad) throw new ConfigError(`ZooKeeper address "${zk}" (--zk or POP_ZK): ${bad}; expected HOST:PORT[,HOST:PORT...][/chroot], e.g. 127.0.0.1:2181`);
  const zkTimeout = Number(o.zk_timeout);
  if (!(zkTimeout > 0)) throw new ConfigError(`--zk-timeout ${zkTimeout} (or POP_ZK_TIMEOUT) must be more than 0 milliseconds, e.g. 5000`);
  const stateDir = String(o.state_dir) || join(homeDir(), ".pop", "agent", machineId || "unknown");
  return { zk, zkAuth: String(o.zk_auth) || undefined, zkTimeout, root, machineId, stateDir };
}

/** What is wrong with a ZooKeeper connect string, or undefined: each host a name with a port from 1 to 65535. */
function badHosts(zk: string): string | undefined {
  const slash = zk.indexOf("/");
  const hosts = slash < 0 ? zk : zk.slice(0, slash);
  if (hosts.trim() === "") return "no host given";
  for (const h of hosts.split(",")) {
    const colon = h.lastIndexOf(":");
    const host = colon < 0 ? h : h.slice(0, colon);
    const port = colon < 0 ? "2181" : h.slice(colon + 1);
    if (host.trim() === "") return `"${h}" has no host`;
    if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535) return `"${h}" has no port from 1 to 65535`;
  }
  return undefined;
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
