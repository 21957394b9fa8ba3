import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";

/** The compiled executable under test: dist/pop, or POP_BIN (a private build, e.g. `bun scripts/build.ts --outdir /tmp/x`). */
export const POP = process.env.POP_BIN ? resolve(process.env.POP_BIN) : resolve(import.meta.dir, "../dist/pop");
/** The repository root. */
export const ROOT = resolve(import.meta.dir, "..");

export interface Result {
  stdout: string;
  stderr: string;
  code: number;
}

/** Run dist/pop to completion; NO_COLOR and a clean POP_* environment unless `env` says otherwise. */
export async function pop(args: string[], opts: { cwd?: string; env?: Record<string, string | undefined>; stdin?: string } = {}): Promise<Result> {
  const env: Record<string, string | undefined> = {
    ...process.env,
    NO_COLOR: "1",
    POP_PLUGIN_PATH: undefined,
    POP_DISABLE: undefined,
    POP_DEBUG: undefined,
    ...opts.env,
  };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  const proc = Bun.spawn([POP, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: env as Record<string, string>,
    stdout: "pipe",
    stderr: "pipe",
    stdin: opts.stdin !== undefined ? new Blob([opts.stdin]) : "ignore",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, code };
}

/** A fresh temporary folder, inside the run's own folder (test/_setup.ts removes it when the run ends). */
export function tmp(prefix = "pop-test-"): string {
  return mkdtempSync(join(process.env.POP_TEST_TMP ?? tmpdir(), prefix));
}

/** Write a tree of files under `dir`: `{ "rpc/math.ts": "export ..." }`. Returns `dir`. */
export function writeTree(dir: string, files: Record<string, string>): string {
  for (const [path, text] of Object.entries(files)) {
    const file = join(dir, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  return dir;
}

/** Start dist/pop in the background; resolves once a stdout line matches `ready` (bounded by `timeoutMs`). */
export async function start(args: string[], ready: RegExp, opts: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {}) {
  const env: Record<string, string> = { ...(process.env as Record<string, string>), NO_COLOR: "1", ...opts.env };
  const proc = Bun.spawn([POP, ...args], { cwd: opts.cwd ?? ROOT, env, stdout: "pipe", stderr: "pipe" });
  const decoder = new TextDecoder();
  let seen = "";
  let stderr = "";
  void new Response(proc.stderr).text().then((t) => (stderr = t));
  const reader = proc.stdout.getReader();
  const match = await new Promise<RegExpExecArray>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`timed out waiting for ${ready}; stdout so far: ${seen}`)), opts.timeoutMs ?? 15000);
    (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) {
          clearTimeout(timer);
          await proc.exited;
          return rej(new Error(`pop exited (${proc.exitCode}) before ${ready}; stdout: ${seen} stderr: ${stderr}`));
        }
        seen += decoder.decode(value);
        const m = ready.exec(seen);
        if (m) {
          clearTimeout(timer);
          return res(m);
        }
      }
    })();
  });
  reader.releaseLock();
  return {
    proc,
    match,
    output: () => seen,
    stderr: () => stderr,
    stop: async () => {
      proc.kill();
      await proc.exited;
    },
  };
}
