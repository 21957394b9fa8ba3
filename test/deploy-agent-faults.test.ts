// The deploy agent under faults, through dist/pop against real ZooKeeper servers: kill -9 of the agent (its
// ephemeral nodes vanish, the service runs on, a restarted agent adopts it), session expiry while the server is
// frozen (a new session, the nodes re-created, the healthy service not restarted), and a three-node ensemble losing
// its leader in the middle of a deploy (nothing lost, nothing started twice).
import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { connectZk } from "../src/deploy/_zk.ts";
import type { Zk } from "../src/deploy/_types.ts";
import { alive, World } from "./fixtures/deploy-agent/harness.ts";
import { pop } from "./helpers.ts";
import { startEnsemble, startZk, waitFor, type ZkCluster } from "./_zk.ts";

/** What a test started, ended after it whatever happened: agents and services first, then sessions, then servers. */
const worlds: World[] = [];
const clients: Zk[] = [];
const clusters: ZkCluster[] = [];
afterEach(async () => {
  for (const w of worlds.splice(0)) await w.cleanup();
  for (const c of clients.splice(0)) await c.close().catch(() => {});
  for (const c of clusters.splice(0)) await c.stop();
}, 60_000);

async function setup(ensemble = false): Promise<{ cluster: ZkCluster; w: World }> {
  const cluster = ensemble ? await startEnsemble(3) : await startZk();
  clusters.push(cluster);
  const client = await connectZk({ hosts: cluster.connectString, timeoutMs: 5000 });
  clients.push(client);
  const w = new World(() => cluster.connectString, client);
  worlds.push(w);
  await w.ok("m1", ["init"]);
  return { cluster, w };
}

/** Every node of the agent's session on machine m1 for service `svc`: its registration, its PID node, its state node. */
const ephemerals = (w: World, svc: string) => [`${w.root}/agents/m1`, `${w.root}/machines/m1/${svc}`, `${w.root}/services/${svc}/state/m1`];

async function allExist(w: World, paths: string[], want: boolean): Promise<true | undefined> {
  for (const p of paths) if ((await w.client.exists(p)) !== want) return undefined;
  return true;
}

describe("kill -9 of the agent", () => {
  test("its ephemeral nodes vanish after the session timeout, status shows no live agent, the service runs on; a restarted agent adopts it", async () => {
    const { w } = await setup();
    const first = await w.fg("m1");
    await w.ok("m1", ["add", "process", "--name", "web", "--set", "command=sleep 600"]);
    await w.ok("m1", ["deploy", "web"]);
    const m = await w.ready("web", "m1");

    await w.kill9(first);
    await waitFor("the dead agent's ephemeral nodes to vanish", () => allExist(w, ephemerals(w, "web"), false), 20_000);
    expect(alive(m.pid!)).toBe(true);
    expect(await w.ok("m1", ["status", "web"])).toContain("  m1: targeted, no live agent, not running, no state");
    expect((await w.ok("m1", ["machines"])).split("\n")[0]).toBe("m1: gone (no live agent); runs nothing; targeted by web");

    const second = await w.fg("m1");
    const again = await w.ready("web", "m1");
    expect(again).toMatchObject({ pid: m.pid, restarts: 0 });
    expect(await allExist(w, ephemerals(w, "web"), true)).toBe(true);
    expect(JSON.parse((await w.client.get(`${w.root}/agents/m1`))!.data).pid).toBe(second.pid);
    expect(w.logOf(second)).toContain("adopted web");
    expect(w.pidFiles("m1")).toEqual([m.pid!]);

    // The adopted service is supervised: killed, it is restarted.
    process.kill(m.pid!, "SIGKILL");
    const restarted = await w.until("web", "m1", (s) => s.state === "ready" && s.pid !== undefined && s.pid !== m.pid, "ready with a new pid");
    expect(restarted.restarts).toBe(1);
  }, 90_000);

  test("an agent restarted at once waits out its dead predecessor's registration, then adopts the service (not started twice)", async () => {
    const { w } = await setup();
    const marks = join(w.dir, "starts");
    const first = await w.fg("m1");
    await w.ok("m1", ["add", "process", "--name", "web", "--set", `command=sh -c 'echo started >> ${marks}; exec sleep 600'`]);
    await w.ok("m1", ["deploy", "web"]);
    const m = await w.ready("web", "m1");
    await w.kill9(first);
    // Its registration is still there (the session has not timed out yet): the new agent waits for it to go.
    expect(await w.client.exists(`${w.root}/agents/m1`)).toBe(true);
    const second = await w.fg("m1");
    expect(w.logOf(second)).toContain("to expire");
    const again = await w.ready("web", "m1");
    expect(again).toMatchObject({ pid: m.pid, restarts: 0 });
    expect(readFileSync(marks, "utf8")).toBe("started\n");
  }, 90_000);
});

describe("the layout reset under live agents (pop init --force)", () => {
  test("the agent registers again and reports the services deployed afterwards; machines shows it live", async () => {
    const { w } = await setup();
    const a = await w.fg("m1");
    await w.ok("m1", ["add", "process", "--name", "web", "--set", "command=sleep 600"]);
    await w.ok("m1", ["deploy", "web"]);
    await w.ready("web", "m1");
    await w.ok("m1", ["init", "--force"]);
    await w.ok("m1", ["add", "process", "--name", "sleeper", "--set", "command=sleep 601"]);
    await w.ok("m1", ["deploy", "sleeper"]);
    await w.ready("sleeper", "m1");
    expect((await w.ok("m1", ["machines"])).split("\n")[0]).toStartWith("m1: live");
    expect(w.logOf(a)).toContain("registered again at");
  }, 90_000);

  test("pop fg with a --root that has no layout: the usage error every command gives (exit 2), not a failed create", async () => {
    const { cluster, w } = await setup();
    const r = await pop(["fg", "--zk", cluster.connectString, "--root", "/nothere", "--machine-id", "m9", "--state-dir", join(w.dir, "m9")]);
    expect(r.code).toBe(2);
    // pop fg logs JSON lines when stderr is not a terminal (a daemon's log).
    expect(JSON.parse(r.stderr)).toMatchObject({
      level: "error",
      code: "POP_USAGE",
      msg: `no pop layout at /nothere on ZooKeeper ${cluster.connectString}: run "pop init" first (or pass --root)`,
    });
  }, 30_000);
});

describe("session expiry", () => {
  test("the server frozen past the session timeout: the agent opens a new session, re-creates its nodes, and keeps the healthy service (same pid)", async () => {
    const { cluster, w } = await setup();
    const marks = join(w.dir, "starts");
    const agent = await w.fg("m1");
    await w.ok("m1", ["add", "process", "--name", "web", "--set", `command=sh -c 'echo started >> ${marks}; exec sleep 600'`]);
    await w.ok("m1", ["deploy", "web"]);
    const m = await w.ready("web", "m1");
    const agentNode = await w.client.get(`${w.root}/agents/m1`);

    cluster.pause(0);
    try {
      await waitFor("the agent to declare its session lost", () => (w.logOf(agent).includes("ZooKeeper session lost") ? true : undefined), 20_000);
      // While it is cut off its service runs on.
      expect(alive(m.pid!)).toBe(true);
    } finally {
      cluster.resume(0);
    }
    // The test's own session died with the pause too: a new one.
    const client = await connectZk({ hosts: cluster.connectString, timeoutMs: 5000 });
    clients.push(client);
    w.client = client;
    await waitFor("the agent to renew its session", () => (w.logOf(agent).includes("ZooKeeper session renewed") ? true : undefined), 30_000);
    await waitFor("its ephemeral nodes back", () => allExist(w, ephemerals(w, "web"), true), 20_000);
    const again = await w.ready("web", "m1");
    expect(again).toMatchObject({ pid: m.pid, restarts: 0 });
    expect(alive(m.pid!)).toBe(true);
    expect(readFileSync(marks, "utf8")).toBe("started\n");
    // A new registration (a new session's node), by the same agent process.
    const node = await w.client.get(`${w.root}/agents/m1`);
    expect(JSON.parse(node!.data).pid).toBe(agent.pid);
    expect(node!.data).toBe(agentNode!.data);
    // And it converges again: a change after the renewal is obeyed (its watches were re-armed).
    await w.ok("m1", ["undeploy", "web"]);
    await waitFor("the service to stop after the renewal", () => (alive(m.pid!) ? undefined : true));
  }, 120_000);
});

describe("a three-node ensemble", () => {
  test("the leader killed mid-deploy: the deploy succeeds or fails with exit 3 and a retry succeeds; nothing lost, nothing started twice", async () => {
    const { cluster, w } = await setup(true);
    const marks = join(w.dir, "starts");
    await w.fg("m1");
    await w.ok("m1", ["add", "process", "--name", "web", "--set", `command=sh -c 'echo started >> ${marks}; exec sleep 600'`]);
    const leader = await cluster.leader();
    const [deploy] = await Promise.all([w.pop("m1", ["deploy", "web"]), cluster.kill(leader)]);
    expect([0, 3]).toContain(deploy.code);
    if (deploy.code === 3) expect(deploy.stderr).toContain("ZooKeeper");
    // Retried until it succeeds (a deploy is idempotent: the machine is in the list once).
    await waitFor("a deploy to succeed", async () => ((await w.pop("m1", ["deploy", "web"])).code === 0 ? true : undefined), 30_000);
    expect(JSON.parse((await w.client.get(`${w.root}/services/web/machines`))!.data)).toEqual(["m1"]);
    const m = await w.ready("web", "m1", 30_000);
    expect(m.restarts).toBe(0);
    expect(readFileSync(marks, "utf8")).toBe("started\n");
    expect(w.pidFiles("m1")).toEqual([m.pid!]);
    expect(await w.client.exists(`${w.root}/agents/m1`)).toBe(true);
  }, 120_000);
});
