// pop serve --json: stdout carries only pop's JSON lines; a plugin's console output goes to stderr, as with pop call.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { ROOT } from "./helpers.ts";
import { post, serve } from "./fixtures/serve/_harness.ts";

const NOISY = join(ROOT, "test/fixtures/serve-stdout");

describe("pop serve --json", () => {
  test("a plugin's console.log goes to stderr; stdout is JSON lines only", async () => {
    await using s = await serve(["--plugins", NOISY, "--sub", "noisy", "--json"]);
    expect(await post(s.url, { ref: "talk.hello", kwargs: { name: "pop" } })).toMatchObject({ status: 200, json: { result: "hello, pop" } });
    await s.waitFor("stderr", /hello called for pop/);
    const lines = s.stdout().split("\n").filter(Boolean);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(s.stdout()).not.toContain("hello called");
    expect(JSON.parse(lines[0]!)).toMatchObject({ event: "listening", sub: "noisy" });
  }, 30_000);

  test("without --json a plugin's console output stays on stdout", async () => {
    await using s = await serve(["--plugins", NOISY, "--sub", "noisy"]);
    await post(s.url, { ref: "talk.hello", kwargs: { name: "x" } });
    await s.waitFor("stdout", /hello called for x/);
  }, 30_000);
});
