// The deploy agent's options, defined once like any pop app's (docs/config.md): defaults < a `pop.config.*` file <
// the environment (POP_ZK, POP_ZK_AUTH, ...) < the command line (--zk, --zk-auth, ...). Every deploy command takes them.
import type { ConfModule } from "../config/_types.ts";

export const NAME = "pop";

export const CONFIG: NonNullable<ConfModule["CONFIG"]> = {
  zk: { default: "127.0.0.1:2181", help: "ZooKeeper hosts: host:port[,host:port...][/chroot]" },
  zk_auth: { default: "", secret: true, help: "Digest auth user:password: pop's nodes get an ACL so other ZooKeeper users cannot change them" },
  zk_timeout: { default: 5000, type: "integer", help: "Milliseconds to connect and for each ZooKeeper request before giving up (exit 3)" },
  root: { default: "/pop", help: "The ZooKeeper node under which pop keeps its layout" },
  machine_id: { default: "", help: "This machine's id (default: /etc/machine-id, else the DMI product uuid)" },
  state_dir: { default: "", help: "Where the agent keeps pid files, logs and service folders (default: ~/.pop/agent/<machine-id>)" },
};

export const CLI_CONFIG: NonNullable<ConfModule["CLI_CONFIG"]> = {
  zk: { group: "ZooKeeper" },
  zk_auth: { group: "ZooKeeper" },
  zk_timeout: { group: "ZooKeeper" },
  root: { group: "ZooKeeper" },
  machine_id: { group: "Agent" },
  state_dir: { group: "Agent" },
};
