// `pop stop --keep-services`: the agent goes, its services run on, and the next agent adopts them (same pid, not
// started twice); then a plain `pop stop` stops both.
import { expect, test } from "bun:test";
import { alive, zkWorlds } from "./fixtures/deploy-agent/harness.ts";
import { waitFor } from "./_zk.ts";

const zk = zkWorlds();

test("stop --keep-services leaves the service running; a new agent adopts it; stop stops it", async () => {
  const w = zk.world();
  const client = zk.client();
  await w.ok("m1", ["init"]);
  await w.ok("m1", ["add", "process", "--name", "keep", "--set", "command=sleep 600"]);
  await w.ok("m1", ["deploy", "keep"]);
  await w.ok("m1", ["start"]);
  const first = await w.ready("keep", "m1");
  expect(await w.ok("m1", ["stop", "--keep-services"])).toBe("stopped the agent for machine m1 (its services run on)\n");
  expect(alive(first.pid!)).toBe(true);
  await waitFor("the agent's registration to go", async () => ((await client.exists(`${w.root}/agents/m1`)) ? undefined : true), 20_000);
  await w.ok("m1", ["start"]);
  const again = await w.ready("keep", "m1");
  expect(again.pid).toBe(first.pid);
  expect(again.restarts).toBe(0);
  expect(await w.ok("m1", ["stop"])).toBe("stopped the agent for machine m1 and its services\n");
  await waitFor("the service to stop", () => (alive(first.pid!) ? undefined : true), 20_000);
}, 60_000);
