// The deploy agent end to end, through dist/pop against a real ZooKeeper server: the seed's walkthrough for a Bun
// app (pop start as a daemon), several agents with distinct machine ids, a crashed service restarted (and one that
// keeps crashing marked failed, cleared by pop set), undeploy, a machines list written by a plain ZooKeeper client,
// a task on three machines with one failing, pop logs, and a rolling restart honouring maxParallel.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { connectZk } from "../src/deploy/_zk.ts";
import type { Zk } from "../src/deploy/_types.ts";
import { alive, FIX, PLUGINS, World } from "./fixtures/deploy-agent/harness.ts";
import { freePort, startWithClient, stopWithClient, waitFor, type ZkCluster } from "./_zk.ts";

let cluster: ZkCluster;
let client: Zk;
const worlds: World[] = [];

beforeAll(async () => void ({ server: cluster, zk: client } = await startWithClient()), 60_000);
afterEach(async () => {
  for (const w of worlds.splice(0)) await w.cleanup();
}, 60_000);
afterAll(() => stopWithClient(cluster, client), 30_000);

/** A fresh root, state folders and agents for one test, cleaned up after it whatever happens. */
async function world(): Promise<World> {
  const w = new World(() => cluster.connectString, client);
  worlds.push(w);
  await w.ok("m1", ["init"]);
  return w;
}

describe("the walkthrough", () => {
  test("a Bun app: init, add, start (daemon), deploy, status shows it ready and it answers HTTP, run a task, stop", async () => {
    const port = freePort();
    const w = new World(() => cluster.connectString, client);
    worlds.push(w);
    expect(await w.ok("m1", ["init"])).toBe(`created the layout at ${w.root} on ${cluster.connectString}\n`);
    await w.ok("m1", ["add", "bun", "--name", "app", "--port", String(port), "--set", `entry=${join(FIX, "app.ts")}`]);
    const started = await w.ok("m1", ["start"]);
    expect(started).toMatch(/^started the agent for machine m1 \(pid \d+, log .*agent\.log\)\n$/);
    const daemon = Number(/pid (\d+)/.exec(started)![1]);
    expect(alive(daemon)).toBe(true);
    expect(await client.exists(`${w.root}/agents/m1`)).toBe(true);
    // A second start finds it running.
    expect(await w.ok("m1", ["start"])).toBe(`the agent for machine m1 runs already (pid ${daemon})\n`);

    expect(await w.ok("m1", ["deploy", "app"])).toBe("deployed app to m1\n");
    const m = await w.ready("app", "m1");
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe(`hello from app on ${port}\n`);
    expect(await w.ok("m1", ["status", "app"])).toContain(`  m1: targeted, agent live, pid ${m.pid}, ready\n`);

    expect(await w.pop("m1", ["run", "app", "packages"])).toEqual({ code: 0, stdout: "== m1 (exit 0)\n[]\n", stderr: "" });

    expect(await w.ok("m1", ["stop"])).toBe("stopped the agent for machine m1 and its services\n");
    expect(alive(daemon)).toBe(false);
    expect(alive(m.pid!)).toBe(false);
    expect(await client.exists(`${w.root}/agents/m1`)).toBe(false);
    expect(await client.exists(`${w.root}/machines/m1/app`)).toBe(false);
  }, 60_000);
});

describe("pop start", () => {
  test("right after the agent was killed (kill -9): a new agent starts (the old pid is dead, even unreaped), waiting out its registration", async () => {
    const w = await world();
    const first = Number(/pid (\d+)/.exec(await w.ok("m1", ["start"]))![1]);
    process.kill(first, "SIGKILL");
    await Bun.sleep(100);
    const again = await w.pop("m1", ["start"]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^started the agent for machine m1 \(pid \d+, log .*agent\.log\)\n$/);
    const second = Number(/pid (\d+)/.exec(again.stdout)![1]);
    expect(second).not.toBe(first);
    expect(alive(second)).toBe(true);
    expect(await w.ok("m1", ["stop"])).toBe("stopped the agent for machine m1 and its services\n");
  }, 60_000);

  test("a failed start says only its own reason (not an earlier start's, from the same log) with the agent's exit code", async () => {
    const w = await world();
    const bad = await w.pop("m1", ["start", "--plugins", join(w.dir, "nonexistent")]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("does not exist");
    const second = await w.pop("m1", ["start", "--zk-timeout", "1000"], {});
    expect(second.code).toBe(0);
    await w.ok("m1", ["stop"]);
    const third = await w.pop("m1", ["start", "--plugins", join(w.dir, "missing-too")]);
    expect(third.code).toBe(2);
    expect(third.stderr).toContain("missing-too");
    expect(third.stderr).not.toContain("nonexistent");
  }, 60_000);
});

describe("several agents", () => {
  test("three agents with distinct machine ids each run the service; status shows each machine's pid and ready", async () => {
    const w = await world();
    await Promise.all(["m1", "m2", "m3"].map((id) => w.fg(id)));
    await w.ok("m1", ["add", "process", "--name", "web", "--set", "command=sleep 600"]);
    expect(await w.ok("m1", ["deploy", "web", "m1", "m2", "m3"])).toBe("deployed web to m1, m2, m3\n");
    const states = await Promise.all(["m1", "m2", "m3"].map((id) => w.ready("web", id)));
    const pids = states.map((s) => s.pid!);
    expect(new Set(pids).size).toBe(3);
    for (const pid of pids) expect(alive(pid)).toBe(true);
    const st = await w.status("m1", "web");
    for (const [i, id] of ["m1", "m2", "m3"].entries())
      expect(st[id]).toMatchObject({ targeted: true, agent: "live", pid: pids[i], state: { state: "ready", restarts: 0 } });
    const text = await w.ok("m1", ["status", "web"]);
    for (const [i, id] of ["m1", "m2", "m3"].entries()) expect(text).toContain(`  ${id}: targeted, agent live, pid ${pids[i]}, ready`);
  }, 60_000);
});

describe("supervision", () => {
  test("kill -9 of a service: the agent restarts it (a new pid, restarts 1) and reports it ready again", async () => {
    const w = await world();
    await w.fg("m1");
    await w.ok("m1", ["add", "process", "--name", "web", "--set", "command=sleep 600"]);
    await w.ok("m1", ["deploy", "web"]);
    const before = await w.ready("web", "m1");
    process.kill(before.pid!, "SIGKILL");
    const after = await w.until("web", "m1", (m) => m.state === "ready" && m.pid !== undefined && m.pid !== before.pid, "ready with a new pid");
    expect(after.restarts).toBe(1);
    expect(alive(after.pid!)).toBe(true);
    expect(alive(before.pid!)).toBe(false);
    expect((await w.status("m1", "web")).m1).toMatchObject({ pid: after.pid, state: { state: "ready", restarts: 1 } });
  }, 60_000);

  test('a service that crashes at once is marked "failed" after N quick crashes (no pid), and pop set clears it', async () => {
    const w = await world();
    await w.fg("m1");
    await w.ok("m1", ["add", "process", "--name", "crashy", "--set", 'command=sh -c "exit 3"']);
    await w.ok("m1", ["deploy", "crashy"]);
    const failed = await w.until("crashy", "m1", (m) => m.state === "failed", "failed");
    expect(failed.pid).toBeUndefined();
    expect(failed.restarts).toBe(4);
    expect(failed.lastError).toMatch(/^crashed 5 times in a row.*exit code 3/);
    expect(await w.ok("m1", ["status", "crashy"])).toContain("  m1: targeted, agent live, not running, failed, restarts 4");
    await w.ok("m1", ["set", "crashy", "command=sleep 600"]);
    const fixed = await w.ready("crashy", "m1");
    expect(alive(fixed.pid!)).toBe(true);
  }, 60_000);

  test("undeploy: the agent stops the service (its process gone) and removes its PID and state nodes", async () => {
    const w = await world();
    await w.fg("m1");
    await w.ok("m1", ["add", "process", "--name", "web", "--set", "command=sleep 600"]);
    await w.ok("m1", ["deploy", "web"]);
    const m = await w.ready("web", "m1");
    expect(await w.ok("m1", ["undeploy", "web"])).toBe("undeployed web from m1\n");
    await waitFor("the service to stop", () => (alive(m.pid!) ? undefined : true));
    await waitFor("its nodes to go", async () =>
      !(await client.exists(`${w.root}/machines/m1/web`)) && !(await client.exists(`${w.root}/services/web/state/m1`)) ? true : undefined,
    );
    expect(await w.ok("m1", ["status", "web"])).toContain("machines: none");
  }, 60_000);
});

describe("the layout is a public interface", () => {
  test("a machines list written by a plain ZooKeeper client deploys (and an empty one undeploys)", async () => {
    const w = await world();
    await w.fg("m1");
    await w.ok("m1", ["add", "process", "--name", "web", "--set", "command=sleep 600"]);
    const other = await connectZk({ hosts: cluster.connectString, timeoutMs: 5000 });
    try {
      await other.set(`${w.root}/services/web/machines`, JSON.stringify(["m1"]));
      const m = await w.ready("web", "m1");
      expect(alive(m.pid!)).toBe(true);
      await other.set(`${w.root}/services/web/machines`, "[]");
      await waitFor("the service to stop", () => (alive(m.pid!) ? undefined : true));
      // A settings node written by hand is obeyed too (a restart with the new command).
      await other.set(`${w.root}/services/web/settings`, JSON.stringify({ command: "sleep 601" }));
      await other.set(`${w.root}/services/web/machines`, JSON.stringify(["m1"]));
      const again = await w.ready("web", "m1");
      expect(readFileSync(`/proc/${again.pid}/cmdline`, "utf8").split("\0")).toEqual(["sleep", "601", ""]);
      // A bad settings node written by hand does not take the healthy service down: it runs on, the error reported.
      await other.set(`${w.root}/services/web/settings`, JSON.stringify({ command: 5 }));
      const kept = await w.until(
        "web",
        "m1",
        (m) => (m.lastError ?? "").includes("still running with the settings it was started with"),
        "the bad settings reported",
      );
      expect(kept).toMatchObject({ state: "ready", pid: again.pid });
      expect(kept.lastError).toContain('fix them with "pop set web"');
      expect(alive(again.pid!)).toBe(true);
    } finally {
      await other.close();
    }
  }, 60_000);
});

describe("tasks and logs", () => {
  test("a task on three machines, one failing: pop run prints each machine's output and exit code, and exits 1", async () => {
    const w = await world();
    await Promise.all(["m1", "m2", "m3"].map((id) => w.fg(id, ["--plugins", PLUGINS])));
    await w.ok("m1", ["add", "flaky", "--name", "svc", "--plugins", PLUGINS]);
    await w.ok("m1", ["deploy", "svc", "m1", "m2", "m3"]);
    const pids = await Promise.all(["m1", "m2", "m3"].map(async (id) => (await w.ready("svc", id)).pid));
    const r = await w.pop("m1", ["run", "svc", "check", "x", "--timeout", "20"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(
      [
        `== m1 (exit 0)\nok on m1 (pid ${pids[0]}) args ["x"]`,
        `== m2 (exit 0)\nok on m2 (pid ${pids[1]}) args ["x"]`,
        "== m3 (exit 1)\ncheck failed on m3",
        "",
      ].join("\n"),
    );
    expect(r.code).toBe(1);
    // The task node is removed once its answers are read.
    expect(await client.children(`${w.root}/tasks/svc`)).toEqual([]);
    const unknown = await w.pop("m1", ["run", "svc", "nosuch", "--json", "--timeout", "20"]);
    expect(unknown.code).toBe(1);
    const results = JSON.parse(unknown.stdout).results as Array<{ machine: string; code: number; error: string }>;
    expect(results.map((x) => [x.machine, x.code])).toEqual([
      ["m1", 1],
      ["m2", 1],
      ["m3", 1],
    ]);
    expect(results[0]!.error).toBe('service type "flaky" has no task "nosuch" (tasks: check)');
  }, 60_000);

  test("pop logs SERVICE -n N shows the last N lines of the service's output", async () => {
    const w = await world();
    await w.fg("m1");
    await w.ok("m1", ["add", "process", "--name", "talker", "--set", "command=sh -c 'echo one; echo two; echo three >&2; exec sleep 600'"]);
    await w.ok("m1", ["deploy", "talker"]);
    await w.ready("talker", "m1");
    const out = await waitFor("three lines of output", async () => {
      const r = await w.pop("m1", ["logs", "talker", "-n", "2"]);
      return r.code === 0 && r.stdout === "two\nthree\n" ? r : undefined;
    });
    expect(out).toEqual({ code: 0, stdout: "two\nthree\n", stderr: "" });
    expect((await w.pop("m1", ["logs", "talker", "-n", "5"])).stdout).toBe("one\ntwo\nthree\n");
    const json = await w.pop("m1", ["logs", "talker", "-n", "2", "--json"]);
    expect(json.code).toBe(0);
    expect(
      json.stdout
        .trimEnd()
        .split("\n")
        .map((l) => JSON.parse(l)),
    ).toEqual([
      { service: "talker", machine: "m1", line: "two" },
      { service: "talker", machine: "m1", line: "three" },
    ]);
  }, 60_000);

  test("pop status masks secret-looking keys at any depth (an env setting's DB_PASSWORD)", async () => {
    const w = await world();
    await w.ok("m1", ["add", "process", "--name", "sec", "--set", "command=sleep 100", "--set", 'env={"DB_PASSWORD":"hunter2","API_TOKEN":"abc","MODE":"x"}']);
    const status = await w.ok("m1", ["status", "sec", "--json"]);
    expect(status).not.toContain("hunter2");
    expect(status).not.toContain('"abc"');
    expect(JSON.stringify(JSON.parse(status))).toContain('"env":{"DB_PASSWORD":"********","API_TOKEN":"********","MODE":"x"}');
  }, 60_000);
});

describe("rolling restarts", () => {
  /** The lines of generation `gen` in the shared log: "start m1", "ready m1", ... in the order they happened. */
  const lines = (file: string, gen: number) =>
    readFileSync(file, "utf8")
      .split("\n")
      .filter((l) => l.endsWith(` ${gen}`))
      .map((l) => l.slice(0, -` ${gen}`.length));

  test("a settings change restarts one machine at a time with maxParallel 1 (the next starts once the previous is ready); 2 lets both go", async () => {
    const w = await world();
    const log = join(w.dir, "roll.log");
    await Promise.all(["m1", "m2"].map((id) => w.fg(id, ["--plugins", PLUGINS])));
    await w.ok("m1", [
      "add",
      "roller",
      "--name",
      "roll",
      "--plugins",
      PLUGINS,
      "--set",
      `script=${join(FIX, "roller.ts")}`,
      "--set",
      `log=${log}`,
      "--set",
      "gen=1",
    ]);
    await w.ok("m1", ["deploy", "roll", "m1", "m2"]);
    const first = await Promise.all(["m1", "m2"].map((id) => w.ready("roll", id)));

    await w.ok("m1", ["set", "roll", "gen=2", "--plugins", PLUGINS]);
    const bothReady = (gen: number) =>
      waitFor(`generation ${gen} ready on both`, () => (lines(log, gen).filter((l) => l.startsWith("ready")).length === 2 ? true : undefined));
    await bothReady(2);
    const g2 = lines(log, 2);
    const a = g2[0]!.split(" ")[1]!;
    const b = a === "m1" ? "m2" : "m1";
    // The second machine started only after the first was ready again.
    expect(g2).toEqual([`start ${a}`, `ready ${a}`, `start ${b}`, `ready ${b}`]);
    const second = await Promise.all(["m1", "m2"].map((id) => w.ready("roll", id)));
    for (const [i, s] of second.entries()) {
      expect(s.pid).not.toBe(first[i]!.pid);
      expect(alive(first[i]!.pid!)).toBe(false);
    }
    // The rollout's semaphore is empty again.
    expect(await client.children(`${w.root}/services/roll/rollout`)).toEqual([]);

    await w.ok("m1", ["set", "roll", "gen=3", "maxParallel=2", "--plugins", PLUGINS]);
    await bothReady(3);
    // Both restarted at once: each started before either was ready.
    expect(
      lines(log, 3)
        .slice(0, 2)
        .map((l) => l.split(" ")[0]),
    ).toEqual(["start", "start"]);
  }, 90_000);

  test("a restart that does not become ready in time halts the rollout: status says where and why; the next change resumes it", async () => {
    const w = await world();
    const log = join(w.dir, "roll.log");
    await Promise.all(["m1", "m2"].map((id) => w.fg(id, ["--plugins", PLUGINS])));
    const script = join(FIX, "roller.ts");
    await w.ok("m1", ["add", "roller", "--name", "roll", "--plugins", PLUGINS, "--set", `script=${script}`, "--set", `log=${log}`, "--set", "gen=1"]);
    await w.ok("m1", ["deploy", "roll", "m1", "m2"]);
    await Promise.all(["m1", "m2"].map((id) => w.ready("roll", id)));

    await w.ok("m1", ["set", "roll", "gen=2", "stall=true", "readyTimeout=1000", "--plugins", PLUGINS]);
    const [stuck, waiting] = await waitFor("one machine halted, the other waiting for it", async () => {
      const s = await Promise.all(["m1", "m2"].map((id) => w.machine("roll", id)));
      const halted = s.findIndex((m) => m.state === "not-ready");
      return halted >= 0 && s[1 - halted]!.state === "waiting" ? ([["m1", "m2"][halted]!, ["m1", "m2"][1 - halted]!] as const) : undefined;
    });
    const status = await w.ok("m1", ["status", "roll", "--plugins", PLUGINS]);
    expect(status).toMatch(
      new RegExp(`  ${stuck}: targeted, agent live, pid \\d+, not-ready, .*last error: rolling restart halted here: not ready after 1000 ms`),
    );
    expect(status).toMatch(
      new RegExp(`  ${waiting}: targeted, agent live, pid \\d+, waiting, last error: rolling restart: waiting for ${stuck} \\(maxParallel 1\\)`),
    );
    expect(status).not.toContain("problem");
    // Only the halted machine restarted with the stalled settings.
    expect(lines(log, 2)).toEqual([`start ${stuck}`]);

    await w.ok("m1", ["set", "roll", "gen=3", "stall=false", "--plugins", PLUGINS]);
    await waitFor("generation 3 ready on both", () => (lines(log, 3).filter((l) => l.startsWith("ready")).length === 2 ? true : undefined));
    await Promise.all(["m1", "m2"].map((id) => w.ready("roll", id)));
    // The waiting machine never ran the stalled generation.
    expect(lines(log, 2)).toEqual([`start ${stuck}`]);
  }, 90_000);
});
