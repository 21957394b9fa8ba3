// `pop create service-type`'s type run by the real deploy agent: added with --plugins, deployed, ready, its task run.
import { expect, test } from "bun:test";
import { zkWorlds } from "./fixtures/deploy-agent/harness.ts";
import { pop, tmp } from "./helpers.ts";
import { freePort } from "./_zk.ts";

const zk = zkWorlds();

test("a generated service type: pop add checks its settings, the agent starts it, it gets ready, pop run runs its task", async () => {
  const cwd = tmp();
  const made = await pop(["create", "service-type", "hello", "--no-types"], { cwd });
  expect(made.code).toBe(0);
  const w = zk.world();
  const port = freePort();
  await w.ok("m1", ["init"]);
  const bad = await w.pop("m1", ["add", "hello", "--plugins", cwd, "--name", "bad", "--set", "port=nope"]);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('setting "port" of type "hello"');
  await w.ok("m1", ["add", "hello", "--plugins", cwd, "--name", "hi", "--set", `port=${port}`, "--set", "greeting=hi"]);
  await w.fg("m1", ["--plugins", cwd]);
  expect(await w.ok("m1", ["deploy", "hi"])).toBe("deployed hi to m1\n");
  await w.ready("hi", "m1");
  expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe("hi from hi\n");
  expect(await w.pop("m1", ["run", "hi", "greet", "pop"])).toEqual({ code: 0, stdout: "== m1 (exit 0)\nhi from hi, pop\n", stderr: "" });
}, 60_000);
