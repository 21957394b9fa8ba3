// The built-in service types (plugins/service), through one shared contract suite (settings validated, a bad value
// named, a real process started by the supervisor that becomes ready, stopped), then each type's own behaviour: the
// process type's command line and tasks, the static type serving files through pop acting as Bun, the bun type's app
// and its install/packages tasks with a local file: package (offline).
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { logPath } from "../src/deploy/_logs.ts";
import { waitReady } from "../src/deploy/_readiness.ts";
import { BUILTIN_SERVICE, checkServiceType, processSpec, SettingsError, taskNames, validateSettings } from "../src/deploy/_servicetypes.ts";
import { Supervisor, type SupervisorEvent } from "../src/deploy/_supervisor.ts";
import type { ServiceContext, ServiceTypeModule } from "../src/deploy/_types.ts";
import { addBuiltinSub, closeHub, createHub } from "../src/hub/index.ts";
import type { Hub } from "../src/hub/_types.ts";
import { POP, tmp, writeTree } from "./helpers.ts";

const FIX = resolve(import.meta.dir, "fixtures/deploy");
const hub = {} as Hub;
const sups: Supervisor[] = [];
afterEach(async () => {
  for (const s of sups.splice(0)) await s.stopAll();
});

function typeOf(name: string): ServiceTypeModule {
  return BUILTIN_SERVICE[name]!.exports as unknown as ServiceTypeModule;
}

function context(type: string, raw: Record<string, unknown>, dir = tmp(`svc-${type}-`)): ServiceContext {
  return { name: `my-${type}`, type, settings: validateSettings(type, typeOf(type), raw), machineId: "m1", dir, bun: POP };
}

/** Start `svc` under a fresh supervisor and wait (bounded) for its ready event. */
async function run(svc: ServiceContext): Promise<{ sup: Supervisor; pid: number }> {
  const events: SupervisorEvent[] = [];
  const { promise, resolve: done, reject } = Promise.withResolvers<void>();
  const sup = new Supervisor({
    stateDir: tmp("state-"),
    onEvent: (e) => {
      events.push(e);
      if (e.type === "ready") done();
      if (e.type === "unready" || e.type === "failed" || e.type === "backoff") reject(new Error(`${e.type}: ${JSON.stringify(e)}`));
    },
  });
  sups.push(sup);
  const pid = await sup.start(processSpec(hub, typeOf(svc.type), svc));
  const t = setTimeout(() => reject(new Error(`not ready in 20 s: ${JSON.stringify(events)}`)), 20_000);
  try {
    await promise;
  } catch (e) {
    const log = existsSync(logPath(sup.stateDir, svc.name)) ? readFileSync(logPath(sup.stateDir, svc.name), "utf8") : "";
    throw new Error(`${(e as Error).message}; log: ${log}`);
  } finally {
    clearTimeout(t);
  }
  return { sup, pid };
}

function freePort(): number {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const p = s.port;
  s.stop(true);
  return p;
}

/** Each type: a valid example (fresh port each time), a bad value and the message naming it, and a check once it is ready. */
const CASES: Record<
  string,
  { good: () => Record<string, unknown>; bad: Record<string, unknown>; message: string; check: (svc: ServiceContext) => Promise<void> }
> = {
  process: {
    good: () => ({ command: `${process.execPath} ${join(FIX, "listen.ts")}`, port: String(freePort()) }),
    bad: { command: "x", port: "abc" },
    message: 'setting "port" of type "process": expected number, got "abc"',
    check: async (svc) => expect(svc.settings.port).toBeNumber(),
  },
  static: {
    good: () => ({ root: writeTree(tmp("site-"), { "index.html": "<h1>home</h1>\n", "a/b.txt": "bee\n" }), port: freePort() }),
    bad: { root: "/srv", port: 70_000 },
    message: 'setting "port" of type "static": too small',
    check: async (svc) => expect(await (await fetch(`http://127.0.0.1:${svc.settings.port}/a/b.txt`)).text()).toBe("bee\n"),
  },
  bun: {
    good: () => ({ entry: join(FIX, "app.ts"), port: freePort(), env: { GREETING: "hi" } }),
    bad: { entry: "app.ts", maxParallel: 0 },
    message: 'setting "maxParallel" of type "bun": too small: expected number to be >=1, got 0',
    check: async (svc) => expect(await (await fetch(`http://127.0.0.1:${svc.settings.port}/`)).text()).toBe("hi from app\n"),
  },
};
CASES.static!.message = 'setting "port" of type "static": too big: expected number to be <=65535, got 70000';

describe("every built-in type keeps the service type contract", () => {
  test("BUILTIN_SERVICE holds exactly plugins/service's type files, with their sources", () => {
    const files = readdirSync(resolve(import.meta.dir, "../plugins/service")).filter((f) => f.endsWith(".ts") && !f.startsWith("_"));
    expect(Object.keys(BUILTIN_SERVICE).sort()).toEqual(files.map((f) => f.slice(0, -3)).sort());
    for (const b of Object.values(BUILTIN_SERVICE)) expect(b.source).toBe(readFileSync(resolve(import.meta.dir, "..", b.file), "utf8"));
    expect(Object.keys(CASES).sort()).toEqual(Object.keys(BUILTIN_SERVICE).sort());
  });

  for (const [type, c] of Object.entries(CASES)) {
    describe(type, () => {
      test("is a service type: settings schema, command, and its tasks", () => {
        expect(checkServiceType(type, BUILTIN_SERVICE[type]!.exports)).toBe(true);
        expect(taskNames(BUILTIN_SERVICE[type]!.exports).length).toBeGreaterThan(0);
        expect(taskNames(BUILTIN_SERVICE[type]!.exports)).not.toContain("command");
      });

      test("a bad setting is a usage error naming it, what it expects and what it got", () => {
        let err: unknown;
        try {
          validateSettings(type, typeOf(type), c.bad);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(SettingsError);
        expect((err as SettingsError).exitCode).toBe(2);
        expect((err as SettingsError).message).toStartWith(c.message);
        expect(() => validateSettings(type, typeOf(type), { ...c.good(), nosuch: 1 })).toThrow(`setting "nosuch" of type "${type}": unknown setting`);
        expect(validateSettings(type, typeOf(type), c.good()).maxParallel).toBe(1);
      });

      test("runs under the supervisor, becomes ready, and stops", async () => {
        const svc = context(type, c.good());
        const { sup, pid } = await run(svc);
        expect(sup.status(svc.name)).toMatchObject({ state: "running", ready: true, pid });
        await c.check(svc);
        await sup.stop(svc.name);
        expect(sup.status(svc.name)?.state).toBe("stopped");
      });
    });
  }
});

describe("process", () => {
  test("a command line is split like a shell's words; a list is taken as is; cwd and env apply", () => {
    const dir = tmp("proc-");
    const svc = context("process", { command: `sh -c 'echo "a  b" \\$HOME' "two words" three\\ four`, cwd: "sub", env: '{"A": 1}', port: 8080 }, dir);
    const spec = typeOf("process").command(hub, svc);
    expect(spec.argv).toEqual(["sh", "-c", 'echo "a  b" \\$HOME', "two words", "three four"]);
    expect(spec.cwd).toBe(join(dir, "sub"));
    expect(spec.env).toEqual({ PORT: "8080", A: "1" });
    expect(typeOf("process").command(hub, context("process", { command: '["a b", "c"]' })).argv).toEqual(["a b", "c"]);
    expect(() => typeOf("process").command(hub, context("process", { command: "echo 'open" }))).toThrow("unterminated");
  });

  test("tasks: env is the effective environment; signal reaches the running process group", async () => {
    const svc = context("process", { command: ["sh", "-c", "trap 'echo got HUP' HUP; echo started; while :; do sleep 0.05; done"], env: { MY_VAR: "x" } });
    const env = (typeOf("process").env as (h: Hub, s: ServiceContext) => Record<string, string>)(hub, svc);
    expect(env.MY_VAR).toBe("x");
    expect(env.PATH).toBe(process.env.PATH!);
    const signal = typeOf("process").signal as (h: Hub, s: ServiceContext, n?: string) => string;
    expect(() => signal(hub, svc)).toThrow("is not running on this machine");
    const { sup, pid } = await run(svc);
    const log = logPath(sup.stateDir, svc.name);
    expect(await waitReady(() => readFileSync(log, "utf8").includes("started") || "waiting", { timeoutMs: 10_000, intervalMs: 20 })).toBe(true);
    expect(() => signal(hub, { ...svc, pid }, "SIGNOPE")).toThrow("not a signal name");
    expect(signal(hub, { ...svc, pid })).toContain("sent SIGHUP");
    expect(await waitReady(() => readFileSync(log, "utf8").includes("got HUP") || "waiting", { timeoutMs: 10_000, intervalMs: 20 })).toBe(true);
  });

  test("settings stopSignal and stopTimeout override the type's own in what the supervisor runs", () => {
    const spec = processSpec(hub, typeOf("process"), context("process", { command: "x", stopSignal: "SIGINT", stopTimeout: "250", readyTimeout: 5 }));
    expect(spec).toMatchObject({ stopSignal: "SIGINT", stopTimeout: 250, readyTimeout: 5 });
    expect(processSpec(hub, typeOf("process"), context("process", { command: "x" }))).toMatchObject({ stopSignal: "SIGTERM", stopTimeout: 10_000 });
  });
});

describe("static", () => {
  test("serves a folder's index, files and 404s through pop acting as Bun, nothing outside the root", async () => {
    const root = writeTree(tmp("site-"), { "index.html": "<h1>home</h1>\n", "docs/index.html": "docs\n" });
    writeFileSync(join(root, "..", "secret.txt"), "no\n");
    const svc = context("static", { root, port: freePort(), host: "127.0.0.1" });
    const spec = typeOf("static").command(hub, svc);
    expect(spec.argv[0]).toBe(POP);
    expect(spec.env?.BUN_BE_BUN).toBe("1");
    await run(svc);
    const base = `http://127.0.0.1:${svc.settings.port}`;
    expect(await (await fetch(`${base}/`)).text()).toBe("<h1>home</h1>\n");
    expect(await (await fetch(`${base}/docs/`)).text()).toBe("docs\n");
    expect((await fetch(`${base}/missing`)).status).toBe(404);
    expect((await fetch(`${base}/%2e%2e/secret.txt`)).status).toBe(404);
    expect((await fetch(`${base}/`, { method: "POST" })).status).toBe(405);
    expect((typeOf("static").url as (h: Hub, s: ServiceContext) => string)(hub, svc)).toBe(`${base}/`);
  });
});

describe("bun", () => {
  test("install of a local file: package, then packages lists it with version, source and install time; the app uses it", async () => {
    const pkg = writeTree(tmp("localpkg-"), {
      "package.json": JSON.stringify({ name: "pop-local-greeting", version: "1.2.3", main: "index.js" }),
      "index.js": "module.exports = { word: 'installed' };\n",
    });
    const dir = tmp("bunapp-");
    writeFileSync(
      join(dir, "server.ts"),
      `import g from "pop-local-greeting";\nBun.serve({ hostname: "127.0.0.1", port: Number(process.env.PORT), fetch: () => new Response(g.word + "\\n") });\n`,
    );
    const svc = context("bun", { entry: "server.ts", port: freePort() }, dir);
    const mod = BUILTIN_SERVICE.bun!.exports as { install: Function; packages: Function };
    expect(await mod.packages(hub, svc)).toEqual([]);
    const installed = await mod.install(hub, svc, `file:${pkg}`);
    expect(installed).toEqual([{ name: "pop-local-greeting", version: "1.2.3", installedAt: expect.any(String), source: "file", spec: `file:${pkg}` }]);
    const listed = await mod.packages(hub, svc);
    expect(listed).toEqual(installed);
    expect(Date.parse(listed[0].installedAt)).not.toBeNaN();
    expect(JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).dependencies).toEqual({ "pop-local-greeting": `file:${pkg}` });
    await run(svc);
    expect(await (await fetch(`http://127.0.0.1:${svc.settings.port}/`)).text()).toBe("installed\n");
    await expect(mod.install(hub, svc)).rejects.toThrow("name the packages to install");
    await expect(mod.install(hub, svc, `file:${join(pkg, "nope")}`)).rejects.toThrow("failed (bun add exited");
  });

  test("the instance's package sources are told apart by their specs", async () => {
    const dir = writeTree(tmp("bunapp-"), {
      "package.json": JSON.stringify({ dependencies: { a: "^1.0.0", b: "link:b", c: "github:x/c", d: "https://x/d.tgz", e: "file:../e" } }),
      "node_modules/a/package.json": JSON.stringify({ name: "a", version: "1.4.0" }),
    });
    const svc = context("bun", { entry: "x.ts" }, dir);
    const list = (BUILTIN_SERVICE.bun!.exports as { packages: Function }).packages(hub, svc) as Array<{ name: string; source: string; version: unknown }>;
    expect(list.map((p) => [p.name, p.source, p.version])).toEqual([
      ["a", "registry", "1.4.0"],
      ["b", "link", undefined],
      ["c", "git", undefined],
      ["d", "url", undefined],
      ["e", "file", undefined],
    ]);
  });
});

describe("on a hub", () => {
  test("a plugin root's service/ folder adds types beside the built-ins (as pop deploy's hub loads it), and replaces one only with __override__", async () => {
    const { loadHub, hubFailures } = await import("../src/hub/index.ts");
    const GREETER =
      "export const settings = {};\nexport function command(hub, svc) { return ['sleep', '1']; }\nexport function ready(hub, svc) { return true; }\n";
    const root = writeTree(tmp(), { "service/greeter.ts": GREETER });
    const h = await loadHub({ plugins: [root], env: {}, cwd: root, packages: false, warn: () => {} });
    try {
      await addBuiltinSub(h, "service", BUILTIN_SERVICE);
      const service = h.service as Record<string, unknown>;
      for (const t of ["bun", "process", "static", "greeter"]) expect(typeof h.pop.ref.last(`service.${t}`)).toBe("object");
      expect(Object.keys(service).sort()).toEqual(["bun", "greeter", "process", "static"]);
    } finally {
      await closeHub(h);
    }
    const clash = writeTree(tmp(), { "service/process.ts": GREETER });
    const c = await loadHub({ plugins: [clash], env: {}, cwd: clash, packages: false, warn: () => {} });
    try {
      await addBuiltinSub(c, "service", BUILTIN_SERVICE);
      expect(() => c.pop.ref.last("service.process")).toThrow(/defined by both/);
      expect(hubFailures(c).map((f) => f.ref)).toEqual(["service.process"]);
    } finally {
      await closeHub(c);
    }
    const over = writeTree(tmp(), { "service/process.ts": `export const __override__ = true;\n${GREETER}` });
    const o = await loadHub({ plugins: [over], env: {}, cwd: over, packages: false, warn: () => {} });
    try {
      await addBuiltinSub(o, "service", BUILTIN_SERVICE);
      expect(Object.keys(o.pop.ref.last("service.process") as object).sort()).toEqual(["command", "ready", "settings"]);
    } finally {
      await closeHub(o);
    }
  });

  test("the built-in service sub: types are modules whose functions take the hub first", async () => {
    const h = createHub({ warn: () => {} });
    try {
      await addBuiltinSub(h, "service", BUILTIN_SERVICE);
      const svc = context("process", { command: "echo hi", env: { ON_HUB: "1" } });
      const service = (h as unknown as { service: Record<string, Record<string, (...a: unknown[]) => unknown>> }).service;
      expect((service.process!.env!(svc) as Record<string, string>).ON_HUB).toBe("1");
      expect(service.bun!.packages!(context("bun", {}))).toEqual([]);
    } finally {
      await closeHub(h);
    }
  });
});
