// What both ZooKeeper sessions share (the full client of _zk.ts and the one-shot wire client of _zkwire.ts): the
// errors, with one message per ZooKeeper error code, and the compare-and-set of Zk.update.
import { EXIT, ZooKeeperError, quote } from "../errors.ts";
import type { Zk } from "./_types.ts";

/** A ZooKeeper answer about a node (NO_NODE, NODE_EXISTS, BAD_VERSION, NOT_EMPTY, NO_AUTH...): the work failed (exit 1), nothing to retry blindly. */
export class ZkNodeError extends ZooKeeperError {
  override name = "ZkNodeError";
  override readonly exitCode: number = EXIT.failure;
  /** In a transaction: the index of the op that failed. */
  readonly opIndex: number | undefined;
  constructor(message: string, options: { cause?: unknown; path?: string; zkCode: string; opIndex?: number }) {
    super(message, options);
    this.opIndex = options.opIndex;
  }
}

const CONNECTION_CODES = new Set(["CONNECTION_LOSS", "SESSION_EXPIRED", "OPERATION_TIMEOUT", "CLOSED"]);

/** True for the errors that mean "ZooKeeper could not be reached or the session was lost" (exit 3, safe to retry), not an answer about a node. */
export function isZkConnectionError(e: unknown): e is ZooKeeperError {
  return e instanceof ZooKeeperError && !(e instanceof ZkNodeError) && (e.zkCode === undefined || CONNECTION_CODES.has(e.zkCode));
}

const REASONS: Record<string, string> = {
  NO_NODE: "no such node",
  NODE_EXISTS: "the node already exists",
  BAD_VERSION: "the node changed since it was read (its version differs)",
  NOT_EMPTY: "the node has children",
  NO_AUTH: "not allowed by the node's ACL: connect with the credentials that created it (--zk-auth)",
  NO_CHILDREN_FOR_EPHEMERALS: "an ephemeral node cannot have children",
  INVALID_ACL: "the ACL is invalid (digest auth missing?)",
  AUTH_FAILED: "ZooKeeper refused the credentials: check --zk-auth",
  BAD_ARGUMENTS: "ZooKeeper refused the arguments",
  CONNECTION_LOSS: "the connection to ZooKeeper was lost (the request may or may not have been applied)",
  SESSION_EXPIRED: "the ZooKeeper session was lost",
  CLOSED: "the ZooKeeper session is closed",
};

/** A ZooKeeperError for `what` on `path`: connection codes stay exit 3, answers about nodes are ZkNodeError (exit 1). */
export function zkError(what: string, path: string, zkCode: string, cause?: unknown, opIndex?: number): ZooKeeperError {
  const message = `cannot ${what} ${quote(path)}: ${REASONS[zkCode] ?? zkCode.toLowerCase().replaceAll("_", " ")} (${zkCode})`;
  const opts = { path, zkCode, ...(cause === undefined ? {} : { cause }), ...(opIndex === undefined ? {} : { opIndex }) };
  return CONNECTION_CODES.has(zkCode) ? new ZooKeeperError(message, opts) : new ZkNodeError(message, opts);
}

/** The most data a node holds on a default server (jute.maxbuffer, about 1 MB); a bigger write makes the server drop the connection. */
export const MAX_DATA = 1024 * 1024;

/** `data` as UTF-8 bytes, or a ZkNodeError (exit 1) for `what` on `path` when a server would refuse it for its size. */
export function dataBytes(what: string, path: string, data: string): Buffer {
  const b = Buffer.from(data, "utf8");
  if (b.length > MAX_DATA)
    throw new ZkNodeError(
      `cannot ${what} ${quote(path)}: its data is ${b.length} bytes, more than the ${MAX_DATA} a ZooKeeper node holds (the server's jute.maxbuffer): make it smaller`,
      { path, zkCode: "BAD_ARGUMENTS" },
    );
  return b;
}

const ERR_NAMES: Record<number, string> = {
  [-1]: "SYSTEM_ERROR",
  [-2]: "RUNTIME_INCONSISTENCY",
  [-4]: "CONNECTION_LOSS",
  [-7]: "OPERATION_TIMEOUT",
  [-8]: "BAD_ARGUMENTS",
  [-101]: "NO_NODE",
  [-102]: "NO_AUTH",
  [-103]: "BAD_VERSION",
  [-108]: "NO_CHILDREN_FOR_EPHEMERALS",
  [-110]: "NODE_EXISTS",
  [-111]: "NOT_EMPTY",
  [-112]: "SESSION_EXPIRED",
  [-114]: "INVALID_ACL",
  [-115]: "AUTH_FAILED",
};
/** The name of a ZooKeeper error code (-101: NO_NODE). */
export const errName = (code: number): string => ERR_NAMES[code] ?? `ERROR_${-code}`;

/** Zk.update for any session: a versioned read-modify-write (create when missing), retried on conflict with jittered backoff. */
export async function casUpdate(
  zk: Pick<Zk, "get" | "create" | "set">,
  path: string,
  fn: (current: string | undefined) => string | undefined,
  first?: { node: { data: string; version: number } | undefined },
): Promise<string | undefined> {
  for (let attempt = 0; ; attempt++) {
    const cur = attempt === 0 && first ? first.node : await zk.get(path);
    const next = fn(cur?.data);
    if (next === undefined) return cur?.data;
    try {
      if (cur === undefined) await zk.create(path, next);
      else await zk.set(path, next, cur.version);
      return next;
    } catch (e) {
      const conflict = e instanceof ZkNodeError && (e.zkCode === "BAD_VERSION" || e.zkCode === "NODE_EXISTS" || (cur !== undefined && e.zkCode === "NO_NODE"));
      if (!conflict) throw e;
      if (attempt >= 1000) throw zkError(`update (gave up after ${attempt + 1} conflicting writes)`, path, (e as ZkNodeError).zkCode ?? "BAD_VERSION", e);
      // Jittered backoff, so many writers of one node do not collide in lockstep.
      await Bun.sleep(Math.random() * Math.min(50, 2 ** Math.min(attempt, 6)));
    }
  }
}
