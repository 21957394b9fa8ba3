// engines.pop against a prerelease pop (in-process, the version passed in): 0.2.0-dev counts as 0.2.0, as pnpm checks
// engines, so a dev build runs the plugin roots its release will run; a range that excludes the release still refuses it.
import { expect, test } from "bun:test";
import { checkEngine, engineSatisfied, type Manifest } from "../src/hub/_manifest.ts";
import { DiscoveryError } from "../src/errors.ts";

const manifest = (engine: string): Manifest => ({ file: "/r/pop.json", name: "p", version: "1.0.0", engine, isolate: {}, remote: {} });

test("a prerelease pop satisfies a range its release satisfies", () => {
  for (const [version, range] of <[string, string][]>[
    ["0.2.0-dev", ">=0.1.0"],
    ["0.2.0-dev", "^0.2"],
    ["0.2.0-dev.3+abc", ">=0.1 <1"],
    ["0.2.0-dev", ">=0.2.0"],
    ["0.2.0", ">=0.1.0"],
  ])
    expect([version, range, engineSatisfied(version, range)]).toEqual([version, range, true]);
  expect(() => checkEngine("/r", "--plugins", manifest(">=0.1.0"), "0.2.0-dev")).not.toThrow();
});

test("a prerelease pop is refused by a range its release is outside of, the message naming that version", () => {
  for (const [version, range] of <[string, string][]>[
    ["0.2.0-dev", ">=0.3"],
    ["0.2.0-dev", "^0.1"],
    ["0.2.0", ">=99"],
  ])
    expect([version, range, engineSatisfied(version, range)]).toEqual([version, range, false]);
  expect(() => checkEngine("/r", "--plugins", manifest(">=0.3"), "0.2.0-dev")).toThrow(DiscoveryError);
  expect(() => checkEngine("/r", "--plugins", manifest(">=0.3"), "0.2.0-dev")).toThrow(
    'needs pop ">=0.3" (engines.pop in /r/pop.json); this is pop 0.2.0-dev:',
  );
});
