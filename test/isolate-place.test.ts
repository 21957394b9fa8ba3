// An explicit hub.pop.sub.add of an isolated sub is atomic, as in-process: a failing init.ts rejects the add;
// loading a hub (not strict) tolerates it, the other modules serving.
import { describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { closeHub, createHub } from "../src/hub/index.ts";
import { readRoot } from "../src/hub/_discover.ts";

const ROOT = resolve(import.meta.dir, "fixtures/isolate/badinit");

describe("placing an isolated sub", () => {
  test("hub.pop.sub.add of an isolated sub whose init.ts throws rejects, and the sub is not on the hub", async () => {
    const root = await readRoot(ROOT, "test");
    const hub = createHub({ roots: [root], isolate: { boot: { mode: "worker", source: "test" } }, warn: () => {} });
    try {
      const err = await hub.pop.sub.add({ dyneName: "boot" }).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.message).toContain('module "boot.init" not loaded: __init__ threw Error: init failed on purpose');
      expect(hub.boot).toBeUndefined();
    } finally {
      await closeHub(hub);
    }
  }, 20_000);
});
