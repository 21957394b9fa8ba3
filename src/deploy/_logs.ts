// Services' log files on this machine: `<stateDir>/logs/<name>.log`, written by the services themselves (the
// supervisor hands them an O_APPEND file descriptor, so output never goes through the agent and survives it),
// rotated by size with copy-truncate (the writers keep their descriptor; O_APPEND puts the next write at the new end),
// keeping `.1` (newest) to `.K`. Rotation is checked on a timer, never per line. `tail` and `follow` back
// `pop logs SERVICE [-n N] [-f]`.
import {
  closeSync,
  copyFileSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  watch,
} from "node:fs";
import { join } from "node:path";

/** The log file of service `name` under `stateDir`. */
export function logPath(stateDir: string, name: string): string {
  return join(stateDir, "logs", `${name}.log`);
}

/** Open (creating it and its folder) the log of `name` for appending: the descriptor a service's stdout and stderr go to. */
export function openLog(stateDir: string, name: string): number {
  mkdirSync(join(stateDir, "logs"), { recursive: true });
  return openSync(logPath(stateDir, name), "a", 0o640);
}

/** Options of LogRotator. */
export interface RotateOptions {
  /** Rotate a log once it is larger than this (default 10 MiB). */
  maxBytes?: number;
  /** Old files kept: `.1` .. `.keep` (default 5). */
  keep?: number;
  /** How often the sizes are checked (default 10000 ms). */
  checkMs?: number;
}

/** Rotates every service log under a state dir by size, on a timer. */
export class LogRotator {
  readonly #dir: string;
  readonly #maxBytes: number;
  readonly #keep: number;
  readonly #checkMs: number;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(stateDir: string, opts: RotateOptions = {}) {
    this.#dir = join(stateDir, "logs");
    this.#maxBytes = opts.maxBytes ?? 10 * 1024 * 1024;
    this.#keep = Math.max(1, opts.keep ?? 5);
    this.#checkMs = opts.checkMs ?? 10_000;
  }

  /** Start the timer (idempotent); returns a disposer that stops it. */
  start(): () => void {
    if (!this.#timer) {
      this.#timer = setInterval(() => this.check(), this.#checkMs);
      this.#timer.unref?.();
    }
    return () => this.stop();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Rotate each log over the size limit now; returns the names rotated. */
  check(): string[] {
    let entries: string[];
    try {
      entries = readdirSync(this.#dir);
    } catch {
      return [];
    }
    const rotated: string[] = [];
    for (const f of entries) {
      if (!f.endsWith(".log")) continue;
      const file = join(this.#dir, f);
      let size: number;
      try {
        size = statSync(file).size;
      } catch {
        continue;
      }
      if (size > this.#maxBytes) {
        this.rotate(file);
        rotated.push(f.slice(0, -4));
      }
    }
    return rotated;
  }

  /** Copy-truncate one file: `.K-1` -> `.K`, ..., file -> `.1`, then truncate the file in place. */
  rotate(file: string): void {
    rmSync(`${file}.${this.#keep}`, { force: true });
    for (let i = this.#keep - 1; i >= 1; i--) if (existsSync(`${file}.${i}`)) renameSync(`${file}.${i}`, `${file}.${i + 1}`);
    copyFileSync(file, `${file}.1`);
    truncateSync(file, 0);
  }
}

/** The last `n` lines of service `name`'s output, reaching into rotated files (`.1`, `.2`, ...) when the current one has fewer. */
export function tail(stateDir: string, name: string, n = 10): string[] {
  if (n <= 0) return [];
  const base = logPath(stateDir, name);
  const lines: string[] = [];
  for (let i = 0; ; i++) {
    const file = i === 0 ? base : `${base}.${i}`;
    if (!existsSync(file)) {
      if (i === 0) continue;
      break;
    }
    const got = lastLines(file, n - lines.length);
    lines.unshift(...got);
    if (lines.length >= n) break;
  }
  return lines;
}

/** The last `n` lines of one file, read backwards in chunks (a log may be large). */
function lastLines(file: string, n: number): string[] {
  const fd = openSync(file, "r");
  try {
    const size = fstatSync(fd).size;
    const chunk = 64 * 1024;
    let pos = size;
    let text = "";
    const dec = new TextDecoder();
    let bytes = new Uint8Array(0);
    while (pos > 0) {
      const len = Math.min(chunk, pos);
      pos -= len;
      const buf = new Uint8Array(len);
      readSync(fd, buf, 0, len, pos);
      const merged = new Uint8Array(len + bytes.length);
      merged.set(buf);
      merged.set(bytes, len);
      bytes = merged;
      let count = 0;
      for (const b of bytes) if (b === 10) count++;
      if (count > n) break;
    }
    text = dec.decode(bytes);
    const all = text.split("\n");
    if (all.at(-1) === "") all.pop();
    if (pos > 0) all.shift();
    return all.slice(-n);
  } finally {
    closeSync(fd);
  }
}

/** Options of follow. */
export interface FollowOptions {
  /** Start at the end of the file (default) or at its beginning. */
  fromStart?: boolean;
  /** The safety-net poll between file-change notifications (default 1000 ms). */
  pollMs?: number;
}

/**
 * Call `onLine` for each new line of service `name`'s log (`tail -f`): it keeps following when the file is
 * rotated (copy-truncate: the size drops, reading starts over) or created later. Returns a disposer.
 */
export function follow(stateDir: string, name: string, onLine: (line: string) => void, opts: FollowOptions = {}): () => void {
  const file = logPath(stateDir, name);
  let offset = opts.fromStart ? 0 : existsSync(file) ? statSync(file).size : 0;
  let partial = "";
  let closed = false;
  const dec = new TextDecoder();
  let watcher: ReturnType<typeof watch> | undefined;

  const read = () => {
    if (closed) return;
    let fd: number;
    try {
      fd = openSync(file, "r");
    } catch {
      return;
    }
    try {
      const size = fstatSync(fd).size;
      if (size < offset) {
        offset = 0;
        partial = "";
      }
      while (offset < size) {
        const len = Math.min(64 * 1024, size - offset);
        const buf = new Uint8Array(len);
        const got = readSync(fd, buf, 0, len, offset);
        if (got <= 0) break;
        offset += got;
        partial += dec.decode(buf.subarray(0, got), { stream: true });
        const parts = partial.split("\n");
        partial = parts.pop()!;
        for (const line of parts) if (!closed) onLine(line);
      }
    } finally {
      closeSync(fd);
    }
    if (!watcher) watchFile();
  };
  const watchFile = () => {
    try {
      watcher = watch(file, () => read());
      watcher.on("error", () => {
        watcher?.close();
        watcher = undefined;
      });
    } catch {
      watcher = undefined;
    }
  };
  read();
  const timer = setInterval(read, opts.pollMs ?? 1000);
  return () => {
    closed = true;
    clearInterval(timer);
    watcher?.close();
  };
}
