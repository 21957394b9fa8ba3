// A config file that does not parse: one line naming the file, exit 2, nothing on stdout.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pop, ROOT, tmp, writeTree } from "./helpers.ts";

const conf = readFileSync(join(ROOT, "examples/poppy/conf.ts"), "utf8");

for (const [file, text] of [["poppy.config.json", '{"port": 1,\n'], ["poppy.config.yaml", "port: [1\n"]] as const) {
  test(`${file} with a syntax error`, async () => {
    const dir = writeTree(join(tmp(), "poppy"), { "conf.ts": conf, "poppy/init.ts": "export {};\n", [file]: text });
    const r = await pop(["config", "show", "."], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toStartWith(`pop: cannot read ${file}: `);
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
  });
}
