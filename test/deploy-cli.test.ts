// The deploy commands through dist/pop against a real ZooKeeper server: init, add, set, remove, deploy, undeploy,
// status, machines; bad settings, a malformed node written by another client, concurrent deploys, an unreachable
// ZooKeeper.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connectZk } from "../src/deploy/_zk.ts";
import type { Zk } from "../src/deploy/_types.ts";
import { pop, tmp } from "./helpers.ts";
import { freePort, startWithClient, stopWithClient, type ZkCluster } from "./_zk.ts";

let cluster: ZkCluster;
let client: Zk;
let n = 0;
/** A fresh root per test, so tests never see each other's services. */
const root = () => `/t${++n}`;

beforeAll(async () => void ({ server: cluster, zk: client } = await startWithClient()));
afterAll(() => stopWithClient(cluster, client));

/** dist/pop with this test's ZooKeeper and root, from an empty folder (no pop.config.* around). */
function zpop(r: string, args: string[], env: Record<string, string> = {}) {
  return pop([...args, "--zk", cluster.connectString, "--root", r, "--machine-id", "m1"], { cwd: tmp(), env });
}

describe("init", () => {
  test("creates the layout; refuses to reset it without --force; --force resets", async () => {
    const r = root();
    expect(await zpop(r, ["init"])).toEqual({ code: 0, stdout: `created the layout at ${r} on ${cluster.connectString}\n`, stderr: "" });
    expect(JSON.parse((await client.get(r))!.data)).toMatchObject({ layout: 1 });
    for (const c of ["machines", "services", "agents", "tasks"]) expect(await client.exists(`${r}/${c}`)).toBe(true);
    const again = await zpop(r, ["init"]);
    expect(again.code).toBe(2);
    expect(again.stderr).toBe(
      `pop: a layout exists at ${r} on ${cluster.connectString}; "pop init --force" resets it (every service and target under it is deleted)\n`,
    );
    expect((await zpop(r, ["add", "process", "--name", "web", "--set", "command=sleep 60"])).code).toBe(0);
    expect((await zpop(r, ["init", "--force"])).stdout).toBe(`reset the layout at ${r} on ${cluster.connectString}\n`);
    expect(await client.exists(`${r}/services/web`)).toBe(false);
  });

  test("a command before init says to run it", async () => {
    const r = root();
    const s = await zpop(r, ["status"]);
    expect(s).toEqual({
      code: 2,
      stdout: "",
      stderr: `pop: no pop layout at ${r} on ZooKeeper ${cluster.connectString}: run "pop init" first (or pass --root)\n`,
    });
    // deploy reads the layout, the service and its targets at once: the layout is still what it names first
    expect(await zpop(r, ["deploy", "web"])).toEqual({
      code: 2,
      stdout: "",
      stderr: `pop: no pop layout at ${r} on ZooKeeper ${cluster.connectString}: run "pop init" first (or pass --root)\n`,
    });
  });
});

describe("add, set, remove", () => {
  test("add writes type, settings and an empty target list in one go; status shows it", async () => {
    const r = root();
    await zpop(r, ["init"]);
    const a = await zpop(r, ["add", "process", "--name", "web", "--port", "8080", "--set", "command=sleep 60"]);
    expect(a).toEqual({ code: 0, stdout: 'added service web (type process); deploy it with "pop deploy web [MACHINE...]"\n', stderr: "" });
    expect((await client.get(`${r}/services/web/type`))!.data).toBe("process");
    expect(JSON.parse((await client.get(`${r}/services/web/settings`))!.data)).toMatchObject({ command: "sleep 60", port: 8080 });
    expect((await client.get(`${r}/services/web/machines`))!.data).toBe("[]");
    const s = JSON.parse((await zpop(r, ["status", "--json"])).stdout);
    expect(s.services).toEqual([expect.objectContaining({ name: "web", type: "process", machines: [], problems: [] })]);
    const dup = await zpop(r, ["add", "process", "--name", "web", "--set", "command=sleep 1"]);
    expect(dup.code).toBe(2);
    expect(dup.stderr).toContain('service "web" exists');
  });

  test("a bad setting names the setting and what it expects: exit 2, nothing written", async () => {
    const r = root();
    await zpop(r, ["init"]);
    const bad = await zpop(r, ["add", "process", "--name", "web", "--port", "abc", "--set", "command=sleep 1"]);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe("");
    expect(bad.stderr).toContain('"port"');
    expect(await client.exists(`${r}/services/web`)).toBe(false);
    const noType = await zpop(r, ["add", "nosuchtype"]);
    expect(noType.code).toBe(2);
    expect(noType.stderr).toContain('no service type "nosuchtype" (types: bun, process, static)');
  });

  test("set merges and checks; remove is refused while deployed, unless --force", async () => {
    const r = root();
    await zpop(r, ["init"]);
    await zpop(r, ["add", "process", "--name", "web", "--set", "command=sleep 60"]);
    expect((await zpop(r, ["set", "web", "port=9000"])).code).toBe(0);
    expect(JSON.parse((await client.get(`${r}/services/web/settings`))!.data)).toMatchObject({ command: "sleep 60", port: 9000 });
    const bad = await zpop(r, ["set", "web", "port=nope"]);
    expect(bad.code).toBe(2);
    expect(JSON.parse((await client.get(`${r}/services/web/settings`))!.data).port).toBe(9000);
    expect((await zpop(r, ["deploy", "web", "m1", "m2"])).stdout).toBe("deployed web to m1, m2\n");
    const refused = await zpop(r, ["remove", "web"]);
    expect(refused).toEqual({
      code: 2,
      stdout: "",
      stderr: 'pop: service "web" is deployed on m1, m2: "pop undeploy web m1 m2" first, or "pop remove web --force"\n',
    });
    expect((await zpop(r, ["remove", "web", "--force"])).stdout).toBe("removed service web\n");
    expect(await client.exists(`${r}/services/web`)).toBe(false);
  });
});

describe("deploy and undeploy", () => {
  test("default to this machine; a list by hand is obeyed the same; undeploy removes", async () => {
    const r = root();
    await zpop(r, ["init"]);
    await zpop(r, ["add", "process", "--name", "web", "--set", "command=sleep 60"]);
    expect((await zpop(r, ["deploy", "web"])).stdout).toBe("deployed web to m1\n");
    expect(JSON.parse((await client.get(`${r}/services/web/machines`))!.data)).toEqual(["m1"]);
    await client.set(`${r}/services/web/machines`, JSON.stringify(["m1", "m3"]));
    expect((await zpop(r, ["undeploy", "web", "m1"])).stdout).toBe("undeployed web from m1\n");
    expect(JSON.parse((await client.get(`${r}/services/web/machines`))!.data)).toEqual(["m3"]);
    const none = await zpop(r, ["deploy", "nope"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no service "nope"');
  });

  test("two clients deploying one service at once never lose an update (compare-and-set)", async () => {
    const r = root();
    await zpop(r, ["init"]);
    await zpop(r, ["add", "process", "--name", "web", "--set", "command=sleep 60"]);
    const ids = Array.from({ length: 8 }, (_, i) => `c${i}`);
    const results = await Promise.all(ids.map((id) => zpop(r, ["deploy", "web", id])));
    expect(results.map((x) => x.code)).toEqual(ids.map(() => 0));
    expect(JSON.parse((await client.get(`${r}/services/web/machines`))!.data).sort()).toEqual(ids);
  });
});

describe("status and machines", () => {
  test("a malformed node written by another client is reported for that service; the others carry on", async () => {
    const r = root();
    await zpop(r, ["init"]);
    await zpop(r, ["add", "process", "--name", "good", "--set", "command=sleep 60"]);
    await zpop(r, ["add", "process", "--name", "bad", "--set", "command=sleep 60"]);
    await client.set(`${r}/services/bad/machines`, "{not json");
    const s = await zpop(r, ["status", "--json"]);
    expect(s.code).toBe(0);
    const byName = Object.fromEntries(JSON.parse(s.stdout).services.map((v: { name: string }) => [v.name, v]));
    expect(byName.good.problems).toEqual([]);
    expect(byName.bad.problems).toEqual([{ path: `${r}/services/bad/machines`, problem: expect.stringContaining("not valid JSON") }]);
    const text = await zpop(r, ["status"]);
    expect(text.stdout).toContain(`problem: ${r}/services/bad/machines: not valid JSON`);
  });

  test("secret settings are masked", async () => {
    const r = root();
    await zpop(r, ["init"]);
    await zpop(r, ["add", "process", "--name", "db", "--set", "command=sleep 60", "--set", 'env={"DB_PASSWORD":"hunter2"}']);
    await client.set(`${r}/services/db/settings`, JSON.stringify({ command: "sleep 60", api_token: "abc" }));
    const s = await zpop(r, ["status", "db"]);
    expect(s.stdout).toContain('"api_token":"********"');
    expect(s.stdout).not.toContain("abc");
  });

  test("a targeted machine without a live agent is shown as such; machines lists it as gone", async () => {
    const r = root();
    await zpop(r, ["init"]);
    await zpop(r, ["add", "process", "--name", "web", "--set", "command=sleep 60"]);
    await zpop(r, ["deploy", "web", "far-away"]);
    expect((await zpop(r, ["status", "web"])).stdout).toContain("far-away: targeted, no live agent, not running, no state");
    const m = JSON.parse((await zpop(r, ["machines", "--json"])).stdout);
    expect(m.machines).toEqual([{ machine: "far-away", live: false, agent: undefined, running: [], targeted: ["web"] }].map(({ agent, ...x }) => x));
  });
});

describe("ZooKeeper trouble", () => {
  test("an unreachable ZooKeeper is reported within --zk-timeout, naming the address: exit 3", async () => {
    const port = freePort();
    const r = await pop(["status", "--zk", `127.0.0.1:${port}`, "--zk-timeout", "800"], { cwd: tmp() });
    expect(r.code).toBe(3);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`127.0.0.1:${port}`);
  });

  test("a bad --zk-timeout is a usage error naming the option", async () => {
    const r = await pop(["status", "--zk-timeout", "soon"], { cwd: tmp() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("zk");
  });
});

describe("digest auth", () => {
  test("with --zk-auth every node pop creates gets an ACL: others read, cannot change; pop with the credentials can", async () => {
    const r = root();
    const auth = ["--zk-auth", "ops:s3cret"];
    expect((await zpop(r, ["init", ...auth])).code).toBe(0);
    expect((await zpop(r, ["add", "process", "--name", "web", "--set", "command=sleep 60", ...auth])).code).toBe(0);
    const stranger = await connectZk({ hosts: cluster.connectString, timeoutMs: 5000 });
    try {
      expect((await stranger.get(`${r}/services/web/type`))!.data).toBe("process");
      await expect(stranger.set(`${r}/services/web/machines`, '["evil"]')).rejects.toMatchObject({ zkCode: "NO_AUTH" });
    } finally {
      await stranger.close();
    }
    const noAuth = await zpop(r, ["deploy", "web"]);
    expect(noAuth.code).toBe(1);
    expect(noAuth.stderr).toContain("NO_AUTH");
    expect((await zpop(r, ["deploy", "web", ...auth])).stdout).toBe("deployed web to m1\n");
    const viaEnv = await zpop(r, ["undeploy", "web"], { POP_ZK_AUTH: "ops:s3cret" });
    expect(viaEnv.stdout).toBe("undeployed web from m1\n");
  });
});
