// pop test's runtime files (a preload bun test runs) come from a cache folder: only a folder this user alone can
// write is used, so another local user cannot plant a preload in /tmp/pop-<uid>/ for pop test to run.
import { describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cachedFolder } from "../src/types/_cache.ts";
import { POP, pop, ROOT, tmp } from "./helpers.ts";

const FIX = join(ROOT, "test/fixtures/testing/shop");
const PLANTED = 'console.log("PLANTED PRELOAD RAN as uid " + process.getuid()); process.exit(0);\n';

/** The name of pop test's runtime folder for this build (`test-<hash>`), found by one run with a cache of its own. */
let runtimeName: string | undefined;
async function runtimeFolderName(): Promise<string> {
  if (runtimeName) return runtimeName;
  const base = tmp("pop-cache-name-");
  const dir = join(base, "shop");
  cpSync(FIX, dir, { recursive: true });
  const r = await pop(["test", "--no-types", dir, "--", "-t", "nothing matches this"], { env: { XDG_CACHE_HOME: join(base, "cache") } });
  const names = readdirSync(join(base, "cache", "pop")).filter((n) => n.startsWith("test-"));
  expect(names.length, r.stderr).toBe(1);
  return (runtimeName = names[0]!);
}

/** A planted runtime folder, as another user would leave it: a preload that announces itself and ends the run. */
function plant(root: string, name: string): void {
  mkdirSync(join(root, name), { recursive: true });
  writeFileSync(join(root, name, "preload.js"), PLANTED);
  writeFileSync(join(root, name, "pop.js"), "");
}

describe("pop test's cache folder", () => {
  test("one that others can write is made private (700) and emptied before use: a preload planted in it never runs", async () => {
    const name = await runtimeFolderName();
    const base = tmp("pop-cache-open-");
    const dir = join(base, "shop");
    cpSync(FIX, dir, { recursive: true });
    const root = join(base, `pop-${process.getuid!()}`); // the fallback with no writable home: TMPDIR/pop-<uid>
    mkdirSync(root);
    chmodSync(root, 0o777);
    plant(root, name);
    // A cache home not even root can create (as a HOME that does not exist is for other users): the fallback is used.
    const r = await pop(["test", dir], { env: { HOME: "/nonexistent", XDG_CACHE_HOME: "/proc/pop-no-cache", TMPDIR: base, SHOP_AUDIT: join(dir, "a.txt") } });
    expect(r.stdout).not.toContain("PLANTED");
    expect(r.stderr).toContain(`pop: warning: cache folder "${root}" was writable by others (mode 777): made it private (700) and emptied it`);
    expect(r.stderr).toMatch(/\n 5 pass\n 0 fail\n/);
    expect(r.code).toBe(0);
    expect(statSync(root).mode & 0o777).toBe(0o700);
  }, 60_000);

  // Root owns what it plants: the victim must be an ordinary user, as which a copy of pop then runs.
  const asNobody = process.getuid?.() === 0 && Bun.which("runuser") !== null && process.platform === "linux";
  test.skipIf(!asNobody)(
    "another user's /tmp/pop-<uid>/ is not used: its preload never runs, pop test runs from a private folder of its own",
    async () => {
      const name = await runtimeFolderName();
      const base = tmp("pop-cache-nobody-");
      for (let d = base; d !== "/" && d !== process.env.POP_TEST_TMP; d = join(d, "..")) chmodSync(d, 0o755);
      chmodSync(process.env.POP_TEST_TMP!, 0o755);
      const bin = join(base, "pop"); // where nobody can reach it: the checkout may sit in a folder only root can enter
      copyFileSync(POP, bin);
      chmodSync(bin, 0o755);
      const shared = join(base, "tmp"); // nobody's TMPDIR, world-writable like /tmp
      mkdirSync(shared);
      chmodSync(shared, 0o1777);
      const dir = join(shared, "shop");
      cpSync(FIX, dir, { recursive: true });
      const uid = Number(Bun.spawnSync(["id", "-u", "nobody"]).stdout.toString().trim());
      expect(Bun.spawnSync(["chown", "-R", "nobody", dir]).exitCode).toBe(0);
      const root = join(shared, `pop-${uid}`); // made by root, the attacker here, before nobody ever ran pop
      plant(root, name);
      const p = Bun.spawn(["runuser", "-u", "nobody", "--", bin, "test", dir], {
        cwd: "/",
        env: { PATH: process.env.PATH!, NO_COLOR: "1", HOME: "/nonexistent", TMPDIR: shared, SHOP_AUDIT: join(dir, "a.txt") },
        stdout: "pipe",
        stderr: "pipe",
      });
      const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
      expect(stdout).not.toContain("PLANTED");
      expect(stderr).toStartWith(
        `pop: warning: cache folder not used: "${root}" belongs to uid 0, not to this user (uid ${uid}); remove it, or set XDG_CACHE_HOME to a folder of your own\n\n`,
      );
      expect(stderr).toMatch(/\n 5 pass\n 0 fail\n/);
      expect(code).toBe(0);
      // The private folder it ran from is gone with it.
      expect(readdirSync(shared).filter((n) => n.startsWith("pop-test-"))).toEqual([]);
    },
    60_000,
  );
});

/** Run `fn` with XDG_CACHE_HOME and TMPDIR set (restored after). */
function withEnv<T>(env: Record<string, string>, fn: () => T): T {
  const before = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return fn();
  } finally {
    for (const [k, v] of Object.entries(before)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

const fill = (into: string) => writeFileSync(join(into, "done"), "");

describe("cachedFolder: only a root this user alone can write", () => {
  test("a root it creates has mode 700", () => {
    const base = tmp("pop-cache-mode-");
    const dir = withEnv({ XDG_CACHE_HOME: base, TMPDIR: base }, () => cachedFolder("x", "done", fill));
    expect(dir).toBe(join(base, "pop", "x"));
    expect(statSync(join(base, "pop")).mode & 0o777).toBe(0o700);
  });

  test("a root that is a link is not used: the next root is", () => {
    const base = tmp("pop-cache-link-");
    mkdirSync(join(base, "elsewhere"));
    symlinkSync(join(base, "elsewhere"), join(base, "pop"));
    mkdirSync(join(base, "t"));
    const dir = withEnv({ XDG_CACHE_HOME: base, TMPDIR: join(base, "t") }, () => cachedFolder("x", "done", fill));
    expect(dir).toBe(join(base, "t", `pop-${process.getuid!()}`, "x"));
    expect(existsSync(join(base, "elsewhere", "x"))).toBe(false);
    expect(lstatSync(join(base, "pop")).isSymbolicLink()).toBe(true);
  });

  test.skipIf(process.getuid?.() !== 0)("a root owned by another user is not used, even with the marker in it", () => {
    const base = tmp("pop-cache-owner-");
    const theirs = join(base, "pop");
    mkdirSync(join(theirs, "x"), { recursive: true });
    writeFileSync(join(theirs, "x", "done"), "");
    expect(Bun.spawnSync(["chown", "-R", "nobody", theirs]).exitCode).toBe(0);
    mkdirSync(join(base, "t"));
    const dir = withEnv({ XDG_CACHE_HOME: base, TMPDIR: join(base, "t") }, () => cachedFolder("x", "done", fill));
    expect(dir).toBe(join(base, "t", `pop-${process.getuid!()}`, "x"));
  });

  test("when no root is safe it throws, naming each", () => {
    const base = tmp("pop-cache-none-");
    mkdirSync(join(base, "elsewhere"));
    symlinkSync(join(base, "elsewhere"), join(base, "pop"));
    symlinkSync(join(base, "elsewhere"), join(base, `pop-${process.getuid!()}`));
    expect(() => withEnv({ XDG_CACHE_HOME: base, TMPDIR: base }, () => cachedFolder("x", "done", fill))).toThrow(
      `no cache folder can be written: ${join(base, "pop")} (unsafe), ${join(base, `pop-${process.getuid!()}`)} (unsafe)`,
    );
  });
});
