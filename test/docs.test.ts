// Every `$ pop …` example in README.md and docs/*.md runs as written and prints what the page shows.
import { describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { POP, ROOT, tmp } from "./helpers.ts";

interface Example {
  file: string;
  line: number;
  command: string;
  expected: string;
}

/** `$ pop …` lines in fenced blocks, each with the lines after it (up to the next `$` or the fence) as its output. */
function examples(file: string): Example[] {
  const out: Example[] = [];
  const lines = readFileSync(join(ROOT, file), "utf8").split("\n");
  let inBlock = false;
  let current: Example | undefined;
  lines.forEach((text, i) => {
    if (text.startsWith("```")) {
      if (current) out.push(current);
      current = undefined;
      inBlock = !inBlock;
      return;
    }
    if (!inBlock) return;
    if (text.startsWith("$ ")) {
      if (current) out.push(current);
      current = /^\$ (\w+=\S* )*pop /.test(text) ? { file, line: i + 1, command: text.slice(2), expected: "" } : undefined;
    } else if (current) {
      current.expected += `${text}\n`;
    }
  });
  return out;
}

const files = [
  "README.md",
  ...readdirSync(join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];
const bin = tmp("pop-docs-bin-");
mkdirSync(bin, { recursive: true });
symlinkSync(POP, join(bin, "pop"));

for (const file of files) {
  const list = examples(file);
  if (list.length === 0) continue;
  describe(file, () => {
    for (const ex of list) {
      test(`line ${ex.line}: ${ex.command}`, async () => {
        const proc = Bun.spawn(["sh", "-c", ex.command], {
          cwd: ROOT,
          env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, NO_COLOR: "1" },
          stdout: "pipe",
          stderr: "pipe",
        });
        const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
        await proc.exited;
        expect((stdout + stderr).trimEnd()).toBe(ex.expected.trimEnd());
      });
    }
  });
}
