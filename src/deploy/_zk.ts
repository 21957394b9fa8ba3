// The deploy agent's ZooKeeper session: node-zookeeper-client behind the promise-based `Zk` of _types.ts. Where the
// library falls short this file makes up for it: every request is bounded by a timeout; requests wait for a live
// connection instead of queueing blind (so auth is always sent first after a failover); a heartbeat notices a
// silent server and our own timer declares the session lost (the library stays "connected" through a silent
// partition); removeTree deletes depth-first itself; transaction checks/sets keep version 0 (the library turns it
// into -1); close() always ends the socket and every timer, connected or not.
import { ZooKeeperError, messageOf, quote } from "../errors.ts";
import type { CreateMode, Zk, ZkOp, ZkOptions } from "./_types.ts";
import { casUpdate, dataBytes, errName, isZkConnectionError, zkError, ZkNodeError } from "./_zkerrors.ts";

export { isZkConnectionError, ZkNodeError };

function codeOf(e: unknown): string {
  const name = (e as { name?: unknown } | null)?.name;
  return typeof name === "string" && /^[A-Z_]+$/.test(name) ? name : "SYSTEM_ERROR";
}

// ---- The library's shape (it ships no types) -----------------------------------------------------------------------

type Cb<T extends unknown[] = []> = (err: unknown, ...res: T) => void;
interface Stat {
  version: number;
}
interface LibTx {
  ops: Array<{ version?: number }>;
  create(path: string, data: Buffer, acls: unknown[], mode: number): LibTx;
  setData(path: string, data: Buffer, version: number): LibTx;
  remove(path: string, version: number): LibTx;
  check(path: string, version: number): LibTx;
  commit(cb: Cb<[Array<{ type: number; err?: number }>]>): void;
}
interface LibCm {
  state: number;
  socket?: { destroy(): void };
  connectTimeoutHandler: ReturnType<typeof setTimeout> | null;
  findNextServer(cb: (server: unknown) => void): void;
  onSocketData(buf: Buffer): void;
  onSocketConnected(): void;
  servers: unknown[];
  setState(s: number): void;
  queue(request: unknown, cb?: Cb<[unknown]>): void;
  on(ev: "state", fn: (s: number) => void): void;
}
interface LibClient {
  connectionManager: LibCm;
  connect(): void;
  close(): void;
  on(ev: string, fn: () => void): void;
  getSessionId(): Buffer;
  getSessionTimeout(): number;
  addAuthInfo(scheme: string, auth: Buffer): void;
  create(path: string, data: Buffer, acls: unknown[], mode: number, cb: Cb<[string]>): void;
  remove(path: string, version: number, cb: Cb): void;
  setData(path: string, data: Buffer, version: number, cb: Cb<[Stat]>): void;
  getData(path: string, watcher: ((e: unknown) => void) | undefined, cb: Cb<[Buffer | undefined, Stat]>): void;
  getChildren(path: string, watcher: ((e: unknown) => void) | undefined, cb: Cb<[string[]]>): void;
  exists(path: string, watcher: ((e: unknown) => void) | undefined, cb: Cb<[Stat | null]>): void;
  transaction(): LibTx;
}
interface Lib {
  createClient(hosts: string, opts: Record<string, unknown>): LibClient;
  ACL: new (perm: number, id: unknown) => unknown;
  Id: new (scheme: string, id: string) => unknown;
  Permission: { READ: number; ALL: number };
  CreateMode: Record<"PERSISTENT" | "EPHEMERAL" | "PERSISTENT_SEQUENTIAL" | "EPHEMERAL_SEQUENTIAL", number>;
}
interface Jute {
  Request: new (header: unknown, payload: unknown) => unknown;
  protocol: { RequestHeader: new (xid: number, type: number) => unknown };
  XID_PING: number;
  OP_CODES: { PING: number; ERROR: number };
}
// ConnectionManager's states (lib/ConnectionManager.js STATES).
const CM_CLOSING = -1;
const CM_CLOSED = -2;
const CM_CONNECTED = 2;

let lib: Lib | undefined;
let jute: Jute | undefined;
// Loaded on first connect, so commands that never touch ZooKeeper do not pay for it.
function load(): { lib: Lib; jute: Jute } {
  lib ??= require("node-zookeeper-client") as Lib;
  jute ??= require("node-zookeeper-client/lib/jute") as Jute;
  return { lib, jute };
}

const MODES: Record<CreateMode, "PERSISTENT" | "EPHEMERAL" | "PERSISTENT_SEQUENTIAL" | "EPHEMERAL_SEQUENTIAL"> = {
  persistent: "PERSISTENT",
  ephemeral: "EPHEMERAL",
  "persistent-sequential": "PERSISTENT_SEQUENTIAL",
  "ephemeral-sequential": "EPHEMERAL_SEQUENTIAL",
};

const text = (b: Buffer | undefined | null) => (b ? b.toString("utf8") : "");
const utf8 = (s: string) => Buffer.from(s, "utf8");
const childPath = (parent: string, name: string) => (parent === "/" ? `/${name}` : `${parent}/${name}`);
const once = (fn: () => void) => {
  let called = false;
  return () => {
    if (called) return;
    called = true;
    fn();
  };
};

/**
 * Open a ZooKeeper session: resolves once connected, or rejects within `timeoutMs` with a ZooKeeperError (exit 3)
 * naming the address.
 * @example
 * await using zk = await connectZk({ hosts: "127.0.0.1:2181", auth: "pop:secret" });
 * await zk.update("/pop/services/web/machines", (cur) => JSON.stringify([...JSON.parse(cur ?? "[]"), "m1"]));
 */
export async function connectZk(opts: ZkOptions): Promise<Zk & AsyncDisposable> {
  const session = new Session(opts);
  await session.open();
  return session;
}

type State = "connected" | "disconnected" | "expired";

class Session implements Zk, AsyncDisposable {
  readonly #hosts: string;
  readonly #timeoutMs: number;
  readonly #client: LibClient;
  readonly #acls: unknown[];
  readonly #lib: Lib;
  readonly #jute: Jute;
  #connected = false;
  #everConnected = false;
  #sessionId = "";
  #done: "lost" | "closed" | undefined;
  #lastHeard = Date.now();
  #lossTimer: ReturnType<typeof setTimeout> | undefined;
  #handshakeTimer: ReturnType<typeof setTimeout> | undefined;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  readonly #waiters = new Set<(ok: boolean) => void>();
  readonly #lostCbs = new Set<() => void>();
  readonly #stateCbs = new Set<(s: State) => void>();

  constructor(opts: ZkOptions) {
    this.#hosts = opts.hosts;
    this.#timeoutMs = opts.timeoutMs ?? 5000;
    ({ lib: this.#lib, jute: this.#jute } = load());
    try {
      this.#client = this.#lib.createClient(opts.hosts, { sessionTimeout: opts.sessionTimeoutMs ?? 10_000, spinDelay: 200, retries: 0 });
    } catch (e) {
      throw new ZooKeeperError(`bad ZooKeeper address ${quote(opts.hosts)}: expected HOST:PORT[,HOST:PORT...][/chroot] (--zk or POP_ZK)`, {
        cause: e,
        zkCode: "BAD_ARGUMENTS",
      });
    }
    const { ACL, Id, Permission } = this.#lib;
    this.#acls = [new ACL(Permission.ALL, new Id("world", "anyone"))];
    if (opts.auth !== undefined) {
      this.#client.addAuthInfo("digest", utf8(opts.auth));
      this.#acls = [new ACL(Permission.ALL, new Id("auth", "")), new ACL(Permission.READ, new Id("world", "anyone"))];
    }
    const cm = this.#client.connectionManager;
    // Once closed, never dial again (the library reconnects from a timer of its own).
    const findNext = cm.findNextServer.bind(cm);
    cm.findNextServer = (cb) => findNext((server) => this.#done === undefined && cb(server));
    // The library's connect timeout ends at the TCP connect: a server that takes the connection and never answers the
    // handshake (frozen, or not ZooKeeper) would hold it until our own timeout, never trying the next one. Give each
    // server its share of the timeout for the handshake too, as the one-shot client (_zkwire.ts) does.
    const share = Math.max(100, Math.floor(this.#timeoutMs / Math.max(1, cm.servers.length)));
    const onConnected = cm.onSocketConnected.bind(cm);
    cm.onSocketConnected = () => {
      const sock = cm.socket;
      clearTimeout(this.#handshakeTimer);
      this.#handshakeTimer = setTimeout(() => {
        if (cm.state !== CM_CONNECTED && cm.socket === sock) sock?.destroy();
      }, share);
      onConnected();
    };
    const onData = cm.onSocketData.bind(cm);
    cm.onSocketData = (buf) => {
      this.#lastHeard = Date.now();
      onData(buf);
    };
    this.#client.on("connected", () => this.#onConnected());
    this.#client.on("disconnected", () => this.#onDisconnected());
    this.#client.on("expired", () => this.#lose());
  }

  get sessionId(): string {
    return this.#sessionId;
  }

  async open(): Promise<void> {
    const ms = this.#timeoutMs;
    let failed: string | undefined;
    this.#client.on("authenticationFailed", () => {
      failed = "AUTH_FAILED";
      this.#wake(false);
    });
    this.#client.connect();
    const ok = await this.#waitConnected(Date.now() + ms);
    if (ok) return;
    this.#hardClose();
    this.#done = "closed";
    if (failed) throw new ZooKeeperError(`ZooKeeper at ${this.#hosts} refused the credentials: check --zk-auth or POP_ZK_AUTH`, { zkCode: failed });
    throw new ZooKeeperError(`cannot reach ZooKeeper at ${this.#hosts} within ${ms} ms: is it running? set --zk HOSTS or POP_ZK`, {
      zkCode: "CONNECTION_LOSS",
    });
  }

  #onConnected(): void {
    if (this.#done) return;
    this.#lastHeard = Date.now();
    const id = this.#client.getSessionId().toString("hex");
    if (this.#everConnected && id !== this.#sessionId) return this.#lose();
    this.#sessionId = id;
    this.#everConnected = true;
    this.#connected = true;
    clearTimeout(this.#lossTimer);
    this.#lossTimer = undefined;
    this.#startHeartbeat();
    this.#emitState("connected");
    this.#wake(true);
  }

  #onDisconnected(): void {
    if (this.#done || !this.#everConnected) return;
    const wasConnected = this.#connected;
    this.#connected = false;
    if (this.#lossTimer === undefined) {
      // The server expires the session sessionTimeout after it last heard from us; we last heard from it about then.
      const timeout = this.#client.getSessionTimeout();
      const left = Math.max(0, timeout - Math.min(Date.now() - this.#lastHeard, timeout));
      this.#lossTimer = setTimeout(() => this.#lose(), left);
    }
    if (wasConnected) this.#emitState("disconnected");
  }

  // Ping when idle a third of the session timeout; a server silent for two thirds is treated as gone (the socket is
  // dropped, so the library fails over and our loss timer runs), as the Java client's read timeout does.
  #startHeartbeat(): void {
    if (this.#heartbeat) return;
    const timeout = () => this.#client.getSessionTimeout();
    this.#heartbeat = setInterval(
      () => {
        if (!this.#connected || this.#done) return;
        const silent = Date.now() - this.#lastHeard;
        if (silent >= (timeout() * 2) / 3) this.#client.connectionManager.socket?.destroy();
        else if (silent >= timeout() / 3) {
          const { Request, protocol, XID_PING, OP_CODES } = this.#jute;
          this.#client.connectionManager.queue(new Request(new protocol.RequestHeader(XID_PING, OP_CODES.PING), null));
        }
      },
      Math.max(20, Math.floor(timeout() / 6)),
    );
    this.#heartbeat.unref?.();
  }

  #lose(): void {
    if (this.#done) return;
    this.#done = "lost";
    this.#connected = false;
    this.#clearTimers();
    this.#hardClose();
    this.#wake(false);
    this.#emitState("expired");
    for (const cb of [...this.#lostCbs]) cb();
  }

  #emitState(s: State): void {
    for (const cb of [...this.#stateCbs]) cb(s);
  }

  #wake(ok: boolean): void {
    for (const w of [...this.#waiters]) w(ok);
  }

  #clearTimers(): void {
    clearTimeout(this.#handshakeTimer);
    clearTimeout(this.#lossTimer);
    clearInterval(this.#heartbeat);
    this.#lossTimer = undefined;
    this.#heartbeat = undefined;
  }

  // Drop the socket without a goodbye and stop the library from dialling again: what close() does when not connected.
  #hardClose(): void {
    const cm = this.#client.connectionManager;
    if (cm.connectTimeoutHandler) clearTimeout(cm.connectTimeoutHandler);
    clearTimeout(this.#handshakeTimer);
    if (cm.state !== CM_CLOSED) cm.setState(CM_CLOSING);
    cm.socket?.destroy();
  }

  /** Resolves true once connected, false at `deadline` or when the session ends. */
  #waitConnected(deadline: number): Promise<boolean> {
    if (this.#connected) return Promise.resolve(true);
    if (this.#done) return Promise.resolve(false);
    return new Promise((resolve) => {
      const finish = (ok: boolean) => {
        clearTimeout(timer);
        this.#waiters.delete(finish);
        resolve(ok);
      };
      const timer = setTimeout(() => finish(false), Math.max(0, deadline - Date.now()));
      this.#waiters.add(finish);
    });
  }

  #endedError(what: string, path: string): ZooKeeperError {
    return zkError(what, path, this.#done === "lost" ? "SESSION_EXPIRED" : "CLOSED");
  }

  /** One request: waits for a connection, bounded by the timeout; `retry` (idempotent reads only) repeats it after a connection loss. */
  async #call<T>(what: string, path: string, retry: boolean, send: (cb: (err: unknown, res?: T) => void) => void): Promise<T> {
    const deadline = Date.now() + this.#timeoutMs;
    for (;;) {
      if (this.#done) throw this.#endedError(what, path);
      if (!(await this.#waitConnected(deadline))) {
        if (this.#done) throw this.#endedError(what, path);
        throw new ZooKeeperError(`cannot ${what} ${quote(path)}: not connected to ZooKeeper at ${this.#hosts} within ${this.#timeoutMs} ms`, {
          path,
          zkCode: "OPERATION_TIMEOUT",
        });
      }
      const outcome = await new Promise<{ err: unknown; res?: T }>((resolve) => {
        const timer = setTimeout(() => resolve({ err: { name: "OPERATION_TIMEOUT" } }), Math.max(1, deadline - Date.now()));
        try {
          send((err, res) => {
            clearTimeout(timer);
            resolve(res === undefined ? { err } : { err, res });
          });
        } catch (e) {
          clearTimeout(timer);
          resolve({ err: { name: "BAD_ARGUMENTS", thrown: e } });
        }
      });
      if (!outcome.err) return outcome.res as T;
      const code = codeOf(outcome.err);
      if (code === "OPERATION_TIMEOUT")
        throw new ZooKeeperError(
          `cannot ${what} ${quote(path)}: no answer from ZooKeeper at ${this.#hosts} within ${this.#timeoutMs} ms${retry ? "" : " (it may still be applied)"}`,
          { path, zkCode: code },
        );
      // The library's own checks (a malformed path, data over 1 MB) throw before anything is sent.
      const thrown = (outcome.err as { thrown?: unknown }).thrown;
      if (thrown !== undefined) throw new ZkNodeError(`cannot ${what} ${quote(path)}: ${messageOf(thrown)}`, { path, zkCode: "BAD_ARGUMENTS", cause: thrown });
      if (retry && code === "CONNECTION_LOSS" && !this.#done && Date.now() < deadline) continue;
      if (this.#done) throw this.#endedError(what, path);
      throw zkError(what, path, code, outcome.err);
    }
  }

  async get(path: string, watch?: () => void): Promise<{ data: string; version: number } | undefined> {
    const w = watch && once(watch);
    for (;;) {
      try {
        const [data, stat] = await this.#call<[Buffer | undefined, Stat]>("read", path, true, (cb) =>
          this.#client.getData(path, w && (() => w()), (err, data, stat) => cb(err, [data, stat])),
        );
        return { data: text(data), version: stat.version };
      } catch (e) {
        if (!(e instanceof ZkNodeError && e.zkCode === "NO_NODE")) throw e;
        // Missing: with a watch, watch for its creation instead (and read again if it appeared meanwhile).
        if (!w || !(await this.exists(path, w))) return undefined;
      }
    }
  }

  async children(path: string, watch?: () => void): Promise<string[] | undefined> {
    const w = watch && once(watch);
    for (;;) {
      try {
        const names = await this.#call<string[]>("list", path, true, (cb) => this.#client.getChildren(path, w && (() => w()), cb));
        return names.sort();
      } catch (e) {
        if (!(e instanceof ZkNodeError && e.zkCode === "NO_NODE")) throw e;
        if (!w || !(await this.exists(path, w))) return undefined;
      }
    }
  }

  async exists(path: string, watch?: () => void): Promise<boolean> {
    const w = watch && once(watch);
    const stat = await this.#call<Stat | null>("check", path, true, (cb) => this.#client.exists(path, w && (() => w()), (err, stat) => cb(err, stat ?? null)));
    return stat !== null;
  }

  async create(path: string, data = "", mode: CreateMode = "persistent"): Promise<string> {
    const flags = this.#lib.CreateMode[MODES[mode]];
    const bytes = dataBytes("create", path, data);
    return this.#call<string>("create", path, false, (cb) => this.#client.create(path, bytes, this.#acls, flags, cb));
  }

  async set(path: string, data: string, version = -1): Promise<number> {
    const bytes = dataBytes("set", path, data);
    const stat = await this.#call<Stat>("set", path, false, (cb) => this.#client.setData(path, bytes, version, cb));
    return stat.version;
  }

  async remove(path: string, version = -1): Promise<void> {
    await this.#call<true>("remove", path, false, (cb) => this.#client.remove(path, version, (err) => cb(err, true)));
  }

  async removeTree(path: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const names = await this.children(path);
      if (names === undefined) return;
      for (const name of names) await this.removeTree(childPath(path, name));
      try {
        return await this.remove(path);
      } catch (e) {
        if (e instanceof ZkNodeError && e.zkCode === "NO_NODE") return;
        // A child appeared meanwhile: go round again, a bounded number of times.
        if (!(e instanceof ZkNodeError && e.zkCode === "NOT_EMPTY") || attempt >= 10) throw e;
      }
    }
  }

  async mkdirp(path: string): Promise<void> {
    if (path === "/" || (await this.exists(path))) return;
    let at = "";
    for (const part of path.split("/").slice(1)) {
      at += `/${part}`;
      if (await this.exists(at)) continue;
      try {
        await this.create(at);
      } catch (e) {
        if (!(e instanceof ZkNodeError && e.zkCode === "NODE_EXISTS")) throw e;
      }
    }
  }

  async transaction(ops: ZkOp[]): Promise<void> {
    if (ops.length === 0) return;
    const tx = this.#client.transaction();
    for (const op of ops) {
      if (op.op === "create") tx.create(op.path, dataBytes("create", op.path, op.data ?? ""), this.#acls, this.#lib.CreateMode[MODES[op.mode ?? "persistent"]]);
      else if (op.op === "set") tx.setData(op.path, dataBytes("set", op.path, op.data), op.version ?? -1);
      else if (op.op === "remove") tx.remove(op.path, op.version ?? -1);
      else tx.check(op.path, op.version);
      // The library writes `version || -1`, so version 0 would match any version: put it back.
      const v = op.op === "create" ? undefined : op.version;
      if (v !== undefined) tx.ops[tx.ops.length - 1]!.version = v;
    }
    const first = ops[0]!.path;
    const results = await this.#call<Array<{ type: number; err?: number }>>("commit a transaction at", first, false, (cb) =>
      tx.commit((err, results) => cb(results && err ? undefined : err, results)),
    );
    const failed = results.findIndex((r) => r.type === this.#jute.OP_CODES.ERROR && r.err !== 0);
    if (failed === -1) return;
    const op = ops[failed]!;
    const code = errName(results[failed]!.err ?? -1);
    const e = zkError(op.op, op.path, code, undefined, failed);
    throw new ZkNodeError(`transaction op ${failed + 1} of ${ops.length} failed, so nothing was written: ${e.message}`, {
      path: op.path,
      zkCode: code,
      opIndex: failed,
    });
  }

  update(
    path: string,
    fn: (current: string | undefined) => string | undefined,
    first?: { node: { data: string; version: number } | undefined },
  ): Promise<string | undefined> {
    return casUpdate(this, path, fn, first);
  }

  onSessionLost(cb: () => void): () => void {
    this.#lostCbs.add(cb);
    if (this.#done === "lost") queueMicrotask(() => this.#lostCbs.has(cb) && cb());
    return () => void this.#lostCbs.delete(cb);
  }

  onState(cb: (state: State) => void): () => void {
    this.#stateCbs.add(cb);
    return () => void this.#stateCbs.delete(cb);
  }

  /** Close the session (its ephemeral nodes go at once) and every socket and timer; never waits longer than the timeout. */
  async close(): Promise<void> {
    const wasLive = this.#done === undefined && this.#connected;
    if (this.#done === undefined) this.#done = "closed";
    this.#clearTimers();
    this.#wake(false);
    const cm = this.#client.connectionManager;
    if (wasLive) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(this.#timeoutMs, 2000));
        cm.on("state", (s) => {
          if (s === CM_CLOSED) {
            clearTimeout(timer);
            resolve();
          }
        });
        this.#client.close();
      });
    }
    this.#hardClose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
