// Real ZooKeeper servers for tests: Debian's `zookeeper` package run by the machine's Java, on free loopback
// ports, in a per-test folder under POP_TEST_TMP. Every server is a disposable (`await using zk = await startZk()`)
// that always stops its java processes; a process-exit hook kills any a crashed test left behind.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { expect } from "bun:test";
import { connectZk } from "../src/deploy/_zk.ts";
import type { Zk } from "../src/deploy/_types.ts";
import { ZooKeeperError } from "../src/errors.ts";
import { tmp } from "./helpers.ts";

/** Where Debian's package puts ZooKeeper. */
export const ZK_JAR = "/usr/share/java/zookeeper.jar";
const ZK_CONF = "/etc/zookeeper/conf";
const INSTALL = "apt-get update && apt-get install -y zookeeper";

/** The tickTime of test servers: sessions negotiate at least 2 x this. */
export const TICK_MS = 200;

const live = new Set<Subprocess>();
process.on("exit", () => {
  for (const p of live) p.kill("SIGKILL");
});

/** Throws, saying how to install them, when Java or ZooKeeper is missing: ZooKeeper tests never skip silently. */
export function requireZooKeeper(): void {
  if (!existsSync(ZK_JAR)) throw new Error(`ZooKeeper is not installed (no ${ZK_JAR}): install it with \`${INSTALL}\` (as root)`);
  if (!Bun.which("java")) throw new Error(`Java is not installed (no "java" on PATH): install it with \`${INSTALL}\` (as root), which brings a JRE`);
}

/** A free loopback port: bind port 0, read it back, close. */
export function freePort(): number {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

/** Send a four-letter word to 127.0.0.1:port; resolves to the reply, or "" when nothing answers within `ms`. */
export function fourLetter(port: number, word: string, ms = 1000): Promise<string> {
  return new Promise((resolve) => {
    let out = "";
    const sock = connect({ host: "127.0.0.1", port });
    const done = () => {
      clearTimeout(timer);
      sock.destroy();
      resolve(out);
    };
    const timer = setTimeout(done, ms);
    sock.on("connect", () => sock.write(word));
    sock.on("data", (d) => (out += d.toString()));
    sock.on("end", done);
    sock.on("close", done);
    sock.on("error", done);
  });
}

/** Poll `check` (every 50 ms) until it returns a value other than undefined, or throw `what` after `ms`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await Bun.sleep(50);
  }
}

interface Member {
  id: number;
  clientPort: number;
  dir: string;
  cfg: string;
  proc: Subprocess | undefined;
}

/** One server or an ensemble of them, started and stopped by the test. */
export interface ZkCluster extends AsyncDisposable {
  /** "127.0.0.1:p1,127.0.0.1:p2,...". */
  readonly connectString: string;
  /** Each member's client port, by index. */
  readonly ports: number[];
  /** Wait until every running member answers `srvr` with a Mode (leader, follower or standalone). */
  waitReady(ms?: number): Promise<void>;
  /** The index of the current leader (0 for a single server), waiting for one to be elected. */
  leader(ms?: number): Promise<number>;
  /** SIGKILL member i and wait for its process to end. */
  kill(i: number): Promise<void>;
  /** SIGSTOP member i: its connections stay open and silent (a partition as a client sees it). */
  pause(i: number): void;
  /** SIGCONT member i. */
  resume(i: number): void;
  /** Start member i again (same ports, same data) and wait until it serves. */
  restart(i: number): Promise<void>;
  /** Stop every member (SIGKILL: tests need no graceful shutdown) and wait for the processes to end. */
  stop(): Promise<void>;
}

function spawnMember(m: Member): void {
  const log = Bun.file(join(m.dir, "zookeeper.log"));
  const proc = Bun.spawn(
    [
      "java",
      "-Xmx256m",
      "-XX:+UseSerialGC",
      "-XX:TieredStopAtLevel=1",
      "-Xshare:auto",
      `-Dzookeeper.log.dir=${m.dir}`,
      "-Dzookeeper.root.logger=INFO,CONSOLE",
      "-cp",
      `${ZK_CONF}:${ZK_JAR}`,
      "org.apache.zookeeper.server.quorum.QuorumPeerMain",
      m.cfg,
    ],
    { stdout: log, stderr: log, stdin: "ignore" },
  );
  live.add(proc);
  void proc.exited.then(() => live.delete(proc));
  m.proc = proc;
}

async function modeOf(port: number): Promise<string | undefined> {
  return /^Mode: (\w+)/m.exec(await fourLetter(port, "srvr", 500))?.[1];
}

function logTail(m: Member): string {
  try {
    return readFileSync(join(m.dir, "zookeeper.log"), "utf8").split("\n").slice(-15).join("\n");
  } catch {
    return "(no log)";
  }
}

async function startCluster(n: number): Promise<ZkCluster> {
  requireZooKeeper();
  const root = tmp("zk-");
  const members: Member[] = [];
  const quorum: string[] = [];
  for (let id = 1; id <= n; id++) {
    const dir = join(root, `zk${id}`);
    mkdirSync(join(dir, "data"), { recursive: true });
    members.push({ id, clientPort: freePort(), dir, cfg: join(dir, "zoo.cfg"), proc: undefined });
    if (n > 1) quorum.push(`server.${id}=127.0.0.1:${freePort()}:${freePort()}`);
  }
  for (const m of members) {
    writeFileSync(join(m.dir, "data", "myid"), `${m.id}\n`);
    const lines = [
      `tickTime=${TICK_MS}`,
      "initLimit=20",
      "syncLimit=10",
      `dataDir=${join(m.dir, "data")}`,
      `clientPort=${m.clientPort}`,
      "clientPortAddress=127.0.0.1",
      "admin.enableServer=false",
      "4lw.commands.whitelist=*",
      "maxClientCnxns=0",
      "standaloneEnabled=true",
      "preAllocSize=1024",
      "snapCount=100000",
      "forceSync=no",
      ...quorum,
    ];
    writeFileSync(m.cfg, lines.join("\n") + "\n");
  }

  const ready = async (ms = 30_000) => {
    for (const m of members) {
      if (!m.proc || m.proc.exitCode !== null || m.proc.signalCode !== null) continue;
      await waitFor(
        `ZooKeeper member ${m.id} on port ${m.clientPort} to serve (log ${join(m.dir, "zookeeper.log")}):\n${logTail(m)}`,
        async () => {
          if (m.proc?.exitCode !== null && m.proc?.exitCode !== undefined)
            throw new Error(`ZooKeeper member ${m.id} exited with code ${m.proc.exitCode}:\n${logTail(m)}`);
          return (await modeOf(m.clientPort)) ? true : undefined;
        },
        ms,
      );
    }
  };
  const killMember = async (m: Member) => {
    if (!m.proc) return;
    m.proc.kill("SIGCONT");
    m.proc.kill("SIGKILL");
    await m.proc.exited;
    m.proc = undefined;
  };
  const at = (i: number) => {
    const m = members[i];
    if (!m) throw new RangeError(`no ensemble member ${i} (there are ${members.length})`);
    return m;
  };
  const cluster: ZkCluster = {
    connectString: members.map((m) => `127.0.0.1:${m.clientPort}`).join(","),
    ports: members.map((m) => m.clientPort),
    waitReady: ready,
    async leader(ms = 15_000) {
      if (n === 1) return 0;
      return waitFor(
        "a ZooKeeper leader to be elected",
        async () => {
          for (const [i, m] of members.entries()) if (m.proc && (await modeOf(m.clientPort)) === "leader") return i;
          return undefined;
        },
        ms,
      );
    },
    kill: (i) => killMember(at(i)),
    pause: (i) => stop(at(i).proc),
    resume: (i) => void at(i).proc?.kill("SIGCONT"),
    async restart(i) {
      const m = at(i);
      await killMember(m);
      spawnMember(m);
      await ready();
    },
    async stop() {
      await Promise.all(members.map(killMember));
    },
    async [Symbol.asyncDispose]() {
      await cluster.stop();
      rmSync(root, { recursive: true, force: true }); // its data and logs: a run leaves no ZooKeeper folders behind
    },
  };
  for (const m of members) spawnMember(m);
  try {
    await ready();
  } catch (e) {
    await cluster.stop();
    throw e;
  }
  return cluster;
}

// A port picked free may be taken before java binds it: start again on other ports (a few times).
async function startRetrying(n: number): Promise<ZkCluster> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startCluster(n);
    } catch (e) {
      if (attempt >= 3 || !/BindException|Address already in use/.test(String(e))) throw e;
    }
  }
}

/** One standalone ZooKeeper server on a free loopback port, ready to serve. */
export async function startZk(): Promise<ZkCluster> {
  return startRetrying(1);
}

/** An ensemble of `n` servers on loopback (client, peer and election ports all free), with a leader elected. */
export async function startEnsemble(n = 3): Promise<ZkCluster> {
  const c = await startRetrying(n);
  try {
    await c.leader();
  } catch (e) {
    await c.stop();
    throw e;
  }
  return c;
}

/** A standalone server and the full client connected to it: what a test file's tests share (start it in beforeAll). */
export async function startWithClient(): Promise<{ server: ZkCluster; zk: Zk & AsyncDisposable }> {
  const server = await startZk();
  try {
    return { server, zk: await connectZk({ hosts: server.connectString, timeoutMs: 5000 }) };
  } catch (e) {
    await server[Symbol.asyncDispose]();
    throw e;
  }
}

/** The end of startWithClient (afterAll): the client closed, the server stopped and its folder removed; either may be missing when beforeAll failed. */
export async function stopWithClient(server: ZkCluster | undefined, zk: { close(): Promise<void> } | undefined): Promise<void> {
  await zk?.close();
  await server?.[Symbol.asyncDispose]();
}

/** How many sessions a standalone server holds, from its `dump`. */
export async function sessionCount(server: ZkCluster): Promise<number> {
  const m = /Session Sets \(\d+\)\/\((\d+)\)/.exec(await fourLetter(server.ports[0]!, "dump"));
  if (!m) throw new Error("no session count in dump");
  return Number(m[1]);
}

/** The ZooKeeperError `p` rejects with (the test fails if it resolves, or rejects with anything else). */
export async function zkRejection(p: Promise<unknown>): Promise<ZooKeeperError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ZooKeeperError);
    return e as ZooKeeperError;
  }
  throw new Error("expected a rejection");
}

/**
 * SIGSTOP a server and wait until every thread of it is stopped: kill() returns before the kernel has stopped them,
 * and a request sent at once could still be answered (a test then saw a read succeed on a "silent" server).
 */
function stop(proc: Subprocess | undefined): void {
  if (!proc) return;
  proc.kill("SIGSTOP");
  const stopped = (stat: string) => "Tt".includes(stat.charAt(stat.lastIndexOf(")") + 2));
  for (let i = 0; i < 400; i++) {
    let all: boolean;
    try {
      const tasks = readdirSync(`/proc/${proc.pid}/task`);
      all = tasks.every((t) => stopped(readFileSync(`/proc/${proc.pid}/task/${t}/stat`, "utf8")));
    } catch {
      return; // no /proc (not Linux) or the process is gone: nothing to wait for
    }
    if (all) return;
    Bun.sleepSync(5);
  }
}
