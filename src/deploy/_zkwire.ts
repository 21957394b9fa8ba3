// A one-shot ZooKeeper session for the commands that read a few nodes and write one (pop deploy, pop undeploy):
// ZooKeeper's wire protocol (jute) spoken over Bun.connect, without node-zookeeper-client. Loading that library
// (node:net, async, underscore, its jute) costs about 4 ms of a command that takes about 30, and its connect and close
// take about twice the protocol's own round trips. No watches and no reconnection: a connection lost mid-command is
// exit 3, like an unreachable server, and the command can simply be run again (the agent, which needs both, keeps the
// full client of _zk.ts). Errors are the same ZooKeeperErrors, with the same messages, as _zk.ts gives (an unreachable
// ensemble's also names a server that took the connection and never answered).
import { ZooKeeperError, quote } from "../errors.ts";
import type { CreateMode, Zk, ZkOptions } from "./_types.ts";
import { casUpdate, dataBytes, errName, zkError } from "./_zkerrors.ts";

/** What a one-shot session offers: reads, writes, the compare-and-set, close. */
export type OneShotZk = Pick<Zk, "get" | "exists" | "create" | "set" | "update" | "close">;

const OP = { create: 1, exists: 3, getData: 4, setData: 5, auth: 100, closeSession: -11 } as const;
const XID_AUTH = -4;
const XID_PING = -2;
const XID_WATCH = -1;
const NO_NODE = -101;
const CONNECTION_LOST = -4;
const FLAGS: Record<CreateMode, number> = { persistent: 0, ephemeral: 1, "persistent-sequential": 2, "ephemeral-sequential": 3 };
// A ConnectResponse: protocol version, timeout, session id, a 16-byte password, optionally read-only.
const CONNECT_RESPONSE_MIN = 4 + 4 + 8 + 4 + 16;
const CONNECT_RESPONSE_MAX = 1024;
const PERM_READ = 1;
const PERM_ALL = 31;

/** A jute record being written: big-endian ints and longs, length-prefixed strings and buffers. */
class Writer {
  #parts: Buffer[] = [];
  #len = 0;
  int(n: number): this {
    const b = Buffer.allocUnsafe(4);
    b.writeInt32BE(n);
    return this.#push(b);
  }
  long(n: bigint): this {
    const b = Buffer.allocUnsafe(8);
    b.writeBigInt64BE(n);
    return this.#push(b);
  }
  bool(v: boolean): this {
    return this.#push(Buffer.from([v ? 1 : 0]));
  }
  buffer(b: Buffer): this {
    return this.int(b.length).#push(b);
  }
  string(s: string): this {
    return this.buffer(Buffer.from(s, "utf8"));
  }
  /** The frame: its length, then the record. */
  frame(): Buffer {
    const head = Buffer.allocUnsafe(4);
    head.writeInt32BE(this.#len);
    return Buffer.concat([head, ...this.#parts], this.#len + 4);
  }
  #push(b: Buffer): this {
    this.#parts.push(b);
    this.#len += b.length;
    return this;
  }
}

/** Reading a jute record. */
class Reader {
  #at = 0;
  constructor(readonly buf: Buffer) {}
  int(): number {
    const v = this.buf.readInt32BE(this.#at);
    this.#at += 4;
    return v;
  }
  long(): bigint {
    const v = this.buf.readBigInt64BE(this.#at);
    this.#at += 8;
    return v;
  }
  buffer(): Buffer | undefined {
    const n = this.int();
    if (n < 0) return undefined;
    const b = this.buf.subarray(this.#at, this.#at + n);
    this.#at += n;
    return b;
  }
  string(): string {
    return this.buffer()?.toString("utf8") ?? "";
  }
  /** A Stat: its version (the rest is skipped). */
  statVersion(): number {
    this.#at += 32; // czxid, mzxid, ctime, mtime
    const version = this.int();
    this.#at += 4 + 4 + 8 + 4 + 4 + 8; // cversion, aversion, ephemeralOwner, dataLength, numChildren, pzxid
    return version;
  }
}

/** host:port pairs and the chroot of a connect string, or why it is not one. */
export function parseHosts(hosts: string): { servers: Array<{ host: string; port: number }>; chroot: string } | string {
  const slash = hosts.indexOf("/");
  const list = slash < 0 ? hosts : hosts.slice(0, slash);
  let chroot = slash < 0 ? "" : hosts.slice(slash);
  if (chroot === "/") chroot = "";
  if (chroot && (chroot.endsWith("/") || chroot.includes("//"))) return `bad chroot ${quote(chroot)}`;
  const servers: Array<{ host: string; port: number }> = [];
  for (const part of list.split(",")) {
    const s = part.trim();
    if (!s) return `empty server in ${quote(hosts)}`;
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(s);
    const port = m?.[2] === undefined ? 2181 : Number(m[2]);
    if (!m || port < 1 || port > 65535) return `bad server ${quote(s)}`;
    servers.push({ host: m[1]!.replace(/^\[|\]$/g, ""), port });
  }
  return { servers, chroot };
}

const hostPort = (s: { host: string; port: number }) => (s.host.includes(":") ? `[${s.host}]:${s.port}` : `${s.host}:${s.port}`);

type Socket = Awaited<ReturnType<typeof Bun.connect>>;

interface Pending {
  resolve: (r: { err: number; body: Reader }) => void;
}

/** Options of connectOnce. */
export interface OnceOptions {
  /**
   * Resolve at once, before the handshake: reads (get, exists) issued meanwhile are sent right behind it, so the
   * handshake's round trip answers them too (the server takes a session's requests in order, after its session exists,
   * as the Java client's pipelined auth relies on). Writes wait for the session. When no server gives a session, every
   * request rejects with connectOnce's own error.
   */
  pipeline?: boolean;
}

/**
 * Open a one-shot session: resolves once connected (and authenticated, with `auth`), or rejects within `timeoutMs`
 * with the same ZooKeeperError (exit 3) as connectZk. With `pipeline`, resolves at once (OnceOptions).
 */
export async function connectOnce(opts: ZkOptions, o: OnceOptions = {}): Promise<OneShotZk> {
  const parsed = parseHosts(opts.hosts);
  if (typeof parsed === "string")
    throw new ZooKeeperError(`bad ZooKeeper address ${quote(opts.hosts)}: expected HOST:PORT[,HOST:PORT...][/chroot] (--zk or POP_ZK): ${parsed}`, {
      zkCode: "BAD_ARGUMENTS",
    });
  const s = new OneShot(opts, parsed.chroot);
  const opened = s.open(parsed.servers);
  if (o.pipeline)
    opened.catch(() => {}); // each request reports it
  else await opened;
  return s;
}

type Reply = { err: number; body: Reader };

/** A read sent before the session exists: sent again behind each handshake tried, timed only once connected. */
interface Early {
  frame: Buffer;
  start(): void;
  fail(e: unknown): void;
}

class OneShot implements OneShotZk {
  readonly #hosts: string;
  readonly #timeoutMs: number;
  readonly #sessionMs: number;
  readonly #auth: string | undefined;
  readonly #chroot: string;
  #sock: Socket | undefined;
  #in = Buffer.alloc(0);
  #out: Buffer[] = [];
  #xid = 1;
  #pending = new Map<number, Pending>();
  #early = new Map<number, Early>();
  /** The connect response is the first frame and carries no reply header. */
  #onConnect: ((body: Reader | undefined) => void) | undefined;
  /** The current server sent something that is no connect response. */
  #strange = false;
  /** The handshake went out on the current socket: early reads may follow it. */
  #handshakeSent = false;
  #connected = false;
  #opened: Promise<void> | undefined;
  #closed = false;
  /** Bumped for each socket: events of an earlier one (a server given up on) are ignored. */
  #gen = 0;

  constructor(opts: ZkOptions, chroot: string) {
    this.#hosts = opts.hosts;
    this.#timeoutMs = opts.timeoutMs ?? 5000;
    this.#sessionMs = opts.sessionTimeoutMs ?? 10_000;
    this.#auth = opts.auth;
    this.#chroot = chroot;
  }

  /** Try the servers (in random order, round after round) until one gives a session, or the timeout passes. */
  open(servers: Array<{ host: string; port: number }>): Promise<void> {
    this.#opened ??= this.#open(servers).then(
      () => {
        this.#connected = true;
        for (const e of this.#early.values()) e.start();
        this.#early.clear();
      },
      (e: unknown) => {
        for (const x of this.#early.values()) x.fail(e);
        this.#early.clear();
        throw e;
      },
    );
    return this.#opened;
  }

  async #open(servers: Array<{ host: string; port: number }>): Promise<void> {
    const deadline = Date.now() + this.#timeoutMs;
    const order = [...servers].sort(() => Math.random() - 0.5);
    // Each server gets its share of the timeout, as the Java client's connect timeout (session timeout / servers): a
    // server that accepts the connection and never answers must not use up the time of the ones after it.
    const share = Math.max(100, Math.floor(this.#timeoutMs / order.length));
    const silent = new Set<string>();
    const strange = new Set<string>();
    for (let round = 0; Date.now() < deadline; round++) {
      for (const server of order) {
        if (Date.now() >= deadline) break;
        const r = await this.#tryServer(server, Math.min(deadline, Date.now() + share));
        if (r === "ok") return;
        if (r === "silent") silent.add(hostPort(server));
        if (r === "strange") strange.add(hostPort(server));
        if (r === "auth") {
          this.#drop();
          throw new ZooKeeperError(`ZooKeeper at ${this.#hosts} refused the credentials: check --zk-auth or POP_ZK_AUTH`, { zkCode: "AUTH_FAILED" });
        }
      }
      await Bun.sleep(Math.min(200, Math.max(0, deadline - Date.now())));
    }
    const reasons: string[] = [];
    if (silent.size > 0)
      reasons.push(
        `${[...silent].join(", ")} accepted the connection but never answered; ${silent.size === 1 ? "is it a ZooKeeper server?" : "are they ZooKeeper servers?"}`,
      );
    if (strange.size > 0)
      reasons.push(
        `${[...strange].join(", ")} answered, but not as ZooKeeper does; ${strange.size === 1 ? "is it ZooKeeper's client port?" : "are they ZooKeeper's client ports?"}`,
      );
    const why = reasons.length === 0 ? "is it running?" : reasons.join("; ");
    throw new ZooKeeperError(`cannot reach ZooKeeper at ${this.#hosts} within ${this.#timeoutMs} ms: ${why} set --zk HOSTS or POP_ZK`, {
      zkCode: "CONNECTION_LOSS",
    });
  }

  /**
   * One server, until `deadline`: "silent" when it took the connection and sent nothing back by then, "strange" when
   * what it sent is no connect response.
   */
  async #tryServer(server: { host: string; port: number }, deadline: number): Promise<"ok" | "auth" | "failed" | "silent" | "strange"> {
    const answer = new Promise<Reader | undefined>((resolve) => (this.#onConnect = resolve));
    let timedOut = false;
    const timer = setTimeout(
      () => {
        timedOut = true;
        this.#onConnect?.(undefined);
      },
      Math.max(1, deadline - Date.now()),
    );
    try {
      this.#in = Buffer.alloc(0);
      this.#strange = false;
      this.#out = [];
      const gen = ++this.#gen;
      const connecting = Bun.connect({
        hostname: server.host,
        port: server.port,
        socket: {
          data: (_s, chunk) => {
            if (gen === this.#gen) this.#data(chunk);
          },
          drain: (s) => {
            if (gen === this.#gen) this.#flush(s);
          },
          close: () => {
            if (gen === this.#gen) this.#lost();
          },
          error: () => {
            if (gen === this.#gen) this.#lost();
          },
        },
      }).catch(() => undefined);
      // A server that never answers the connection (a black hole) is given up on at the deadline too.
      const sock = await Promise.race([connecting, answer.then(() => undefined)]);
      if (!sock || gen !== this.#gen) {
        void connecting.then((late) => late?.end());
        return this.#failed();
      }
      this.#sock = sock;
      // ConnectRequest: protocol version, last zxid seen, session timeout, session id, password, read-only. The auth
      // packet and any early reads follow at once; the server takes them once the session exists, in order.
      this.#send(new Writer().int(0).long(0n).int(this.#sessionMs).long(0n).buffer(Buffer.alloc(16)).bool(false).frame());
      const authed =
        this.#auth === undefined
          ? undefined
          : this.#request(XID_AUTH, OP.auth, (w) => w.int(0).string("digest").buffer(Buffer.from(this.#auth!, "utf8")), deadline);
      this.#handshakeSent = true;
      for (const e of this.#early.values()) this.#send(e.frame);
      const body = await answer;
      if (!body) {
        const strange = this.#strange || this.#in.length > 0;
        const silent = timedOut && this.#in.length === 0;
        this.#failed();
        return strange ? "strange" : silent ? "silent" : "failed";
      }
      if (body.buf.length < CONNECT_RESPONSE_MIN) return (this.#failed(), "strange");
      body.int(); // protocol version
      const negotiated = body.int();
      if (negotiated <= 0) return this.#failed(); // the server refused the session
      if (!authed) return "ok";
      const r = await authed;
      if (r === undefined || r.err === CONNECTION_LOST) return this.#failed();
      return r.err === 0 ? "ok" : "auth";
    } catch {
      return this.#failed();
    } finally {
      clearTimeout(timer);
      this.#onConnect = undefined;
    }
  }

  #failed(): "failed" {
    this.#drop();
    return "failed";
  }

  /** End the socket without a goodbye; what waits on it (not the early reads, which go to the next server) learns it. */
  #drop(): void {
    const sock = this.#sock;
    this.#sock = undefined;
    this.#gen++;
    this.#handshakeSent = false;
    this.#lostPending();
    sock?.end();
  }

  #send(frame: Buffer): void {
    if (!this.#sock) return;
    if (this.#out.length > 0) this.#out.push(frame);
    else {
      const n = this.#sock.write(frame);
      if (n < frame.length) this.#out.push(frame.subarray(Math.max(0, n)));
    }
  }

  #flush(s: Socket): void {
    while (this.#out.length > 0) {
      const b = this.#out[0]!;
      const n = s.write(b);
      if (n < b.length) {
        this.#out[0] = b.subarray(Math.max(0, n));
        return;
      }
      this.#out.shift();
    }
  }

  #data(chunk: Buffer): void {
    this.#in = this.#in.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.#in, chunk]);
    while (this.#in.length >= 4) {
      const len = this.#in.readInt32BE(0);
      if (this.#in.length < 4 + len) return;
      const frame = new Reader(this.#in.subarray(4, 4 + len));
      this.#in = this.#in.subarray(4 + len);
      if (this.#onConnect && (len < CONNECT_RESPONSE_MIN || len > CONNECT_RESPONSE_MAX)) {
        // No connect response is that long (or short): not a ZooKeeper server (an HTTP one's "HTTP" reads as 1.2 GB).
        this.#strange = true;
        return this.#onConnect(undefined);
      }
      if (this.#onConnect) {
        const cb = this.#onConnect;
        this.#onConnect = undefined;
        cb(frame);
        continue;
      }
      const xid = frame.int();
      frame.long(); // zxid
      const err = frame.int();
      if (xid === XID_PING || xid === XID_WATCH) continue;
      const p = this.#pending.get(xid);
      if (!p) continue;
      this.#pending.delete(xid);
      p.resolve({ err, body: frame });
    }
  }

  /** The connection is gone. */
  #lost(): void {
    this.#sock = undefined;
    this.#handshakeSent = false;
    this.#onConnect?.(undefined);
    this.#lostPending();
  }

  /** Every request waiting on the socket learns it is gone; early reads stay for the next server while connecting. */
  #lostPending(): void {
    for (const [xid, p] of this.#pending) {
      if (this.#early.has(xid)) continue;
      this.#pending.delete(xid);
      p.resolve({ err: CONNECTION_LOST, body: new Reader(Buffer.alloc(0)) });
    }
  }

  /** Send one request; resolves with its reply, or undefined when no answer came by `deadline`. */
  #request(xid: number, type: number, body: (w: Writer) => Writer, deadline: number): Promise<Reply | undefined> {
    return new Promise((resolve) => {
      const entry: Pending = {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      };
      const timer = setTimeout(
        () => {
          if (this.#pending.get(xid) === entry) this.#pending.delete(xid);
          resolve(undefined);
        },
        Math.max(1, deadline - Date.now()),
      );
      this.#pending.set(xid, entry);
      if (!this.#sock) return entry.resolve({ err: CONNECTION_LOST, body: new Reader(Buffer.alloc(0)) });
      this.#send(body(new Writer().int(xid).int(type)).frame());
    });
  }

  /** A read before the session exists (pipeline): queued behind the handshake; its timeout runs from when the session exists. */
  #earlyRequest(xid: number, type: number, body: (w: Writer) => Writer): Promise<Reply | undefined> {
    return new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      this.#pending.set(xid, {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      });
      const frame = body(new Writer().int(xid).int(type)).frame();
      this.#early.set(xid, {
        frame,
        start: () => {
          if (!this.#pending.has(xid)) return; // answered already
          timer = setTimeout(() => {
            this.#pending.delete(xid);
            resolve(undefined);
          }, this.#timeoutMs);
        },
        fail: (e) => {
          this.#pending.delete(xid);
          reject(e);
        },
      });
      if (this.#handshakeSent) this.#send(frame);
    });
  }

  /** One operation on `path`: its reply body, or null for a missing node when `missingOk`; else a ZooKeeperError like _zk.ts's. */
  async #call(what: string, path: string, type: number, body: (w: Writer) => Writer, o: { missingOk?: boolean; read?: boolean } = {}): Promise<Reader | null> {
    if (this.#closed) throw zkError(what, path, "CLOSED");
    let r: Reply | undefined;
    if (!this.#connected && o.read) r = await this.#earlyRequest(this.#xid++, type, body);
    else {
      if (!this.#connected) await this.#opened;
      if (!this.#sock) throw zkError(what, path, "CONNECTION_LOSS");
      r = await this.#request(this.#xid++, type, body, Date.now() + this.#timeoutMs);
    }
    if (r === undefined)
      throw new ZooKeeperError(
        `cannot ${what} ${quote(path)}: no answer from ZooKeeper at ${this.#hosts} within ${this.#timeoutMs} ms${o.read ? "" : " (it may still be applied)"}`,
        { path, zkCode: "OPERATION_TIMEOUT" },
      );
    if (r.err === 0) return r.body;
    if (o.missingOk && r.err === NO_NODE) return null;
    throw zkError(what, path, errName(r.err));
  }

  #full(path: string): string {
    return this.#chroot ? (path === "/" ? this.#chroot : this.#chroot + path) : path;
  }

  async get(path: string): Promise<{ data: string; version: number } | undefined> {
    const r = await this.#call("read", path, OP.getData, (w) => w.string(this.#full(path)).bool(false), { missingOk: true, read: true });
    if (!r) return undefined;
    const data = r.buffer();
    return { data: data ? data.toString("utf8") : "", version: r.statVersion() };
  }

  async exists(path: string): Promise<boolean> {
    return (await this.#call("check", path, OP.exists, (w) => w.string(this.#full(path)).bool(false), { missingOk: true, read: true })) !== null;
  }

  async create(path: string, data = "", mode: CreateMode = "persistent"): Promise<string> {
    const acls: Array<[number, string, string]> =
      this.#auth === undefined
        ? [[PERM_ALL, "world", "anyone"]]
        : [
            [PERM_ALL, "auth", ""],
            [PERM_READ, "world", "anyone"],
          ];
    const bytes = dataBytes("create", path, data);
    const r = await this.#call("create", path, OP.create, (w) => {
      w.string(this.#full(path)).buffer(bytes).int(acls.length);
      for (const [perms, scheme, id] of acls) w.int(perms).string(scheme).string(id);
      return w.int(FLAGS[mode]);
    });
    const made = r!.string();
    return this.#chroot && made.startsWith(this.#chroot) ? made.slice(this.#chroot.length) || "/" : made;
  }

  async set(path: string, data: string, version = -1): Promise<number> {
    const bytes = dataBytes("set", path, data);
    const r = await this.#call("set", path, OP.setData, (w) => w.string(this.#full(path)).buffer(bytes).int(version));
    return r!.statVersion();
  }

  update(path: string, fn: (current: string | undefined) => string | undefined, first?: { node: { data: string; version: number } | undefined }) {
    return casUpdate(this, path, fn, first);
  }

  /** Close the session (the server ends it at once) and the socket; never waits longer than the timeout (2 s at most). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#opened?.catch(() => {});
    if (this.#sock) await this.#request(this.#xid++, OP.closeSession, (w) => w, Date.now() + Math.min(this.#timeoutMs, 2000));
    this.#drop();
  }
}
