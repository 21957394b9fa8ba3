// docs/deploy.md's own service type, examples/deploy/service/greeter.ts, as a user would run it: added with
// --plugins, an agent given the same root, deployed, answering HTTP, its task run, its secret masked.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { zkWorlds } from "./fixtures/deploy-agent/harness.ts";
import { ROOT } from "./helpers.ts";
import { freePort } from "./_zk.ts";

const EXAMPLE = join(ROOT, "examples/deploy");
const zk = zkWorlds();

test("the greeter type from docs/deploy.md: add with --plugins, deploy, it answers, its task runs, its token is masked", async () => {
  const w = zk.world();
  const port = freePort();
  await w.ok("m1", ["init"]);
  await w.ok("m1", ["add", "greeter", "--plugins", EXAMPLE, "--name", "hi", "--port", String(port), "--set", "greeting=hi", "--set", "token=s3cret"]);
  await w.fg("m1", ["--plugins", EXAMPLE]);
  expect(await w.ok("m1", ["deploy", "hi"])).toBe("deployed hi to m1\n");
  await w.ready("hi", "m1");
  expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe("hi from m1\n");
  expect(await w.pop("m1", ["run", "hi", "greet", "pop"])).toEqual({ code: 0, stdout: "== m1 (exit 0)\nhi from m1, pop\n", stderr: "" });
  const status = await w.ok("m1", ["status", "hi", "--plugins", EXAMPLE]);
  expect(status).toContain('"token":"********"');
  expect(status).not.toContain("s3cret");
  const bad = await w.pop("m1", ["add", "greeter", "--plugins", EXAMPLE, "--name", "bad", "--port", "nope"]);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('setting "port" of type "greeter"');
  // The root's types come beside the built-ins: an agent given --plugins still runs a process service.
  await w.ok("m1", ["add", "process", "--plugins", EXAMPLE, "--name", "sleeper", "--set", "command=sleep 30"]);
  expect(await w.ok("m1", ["deploy", "sleeper"])).toBe("deployed sleeper to m1\n");
  await w.ready("sleeper", "m1");
}, 60_000);
