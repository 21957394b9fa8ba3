// The README's "first ten minutes" block runs as written, in a fresh folder with ./dist/pop.
import { expect, test } from "bun:test";
import { mkdirSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { POP, ROOT, tmp } from "./helpers.ts";

test("the first-ten-minutes block writes a plugin, calls it and lists it", async () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## The first ten minutes"));
  const block = /```sh\n([\s\S]*?)```/.exec(section)![1]!;
  const dir = tmp();
  mkdirSync(join(dir, "dist"));
  symlinkSync(POP, join(dir, "dist", "pop"));
  const proc = Bun.spawn(["sh", "-ec", block], { cwd: dir, env: { ...process.env, NO_COLOR: "1" }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  expect(stderr).toBe("");
  expect(code).toBe(0);
  const lines = stdout.split("\n");
  expect(lines[0]).toBe("hello, pop"); // as the comment in the README says
  expect(stdout).toContain("greet  myapp/greet\n  hello  myapp/greet/hello.ts\n");
  expect(stdout).toMatch(/say\(\{ name = "world" \}: \{ name\?: string \} = \{\}\)  Say hello to someone\./);
});
