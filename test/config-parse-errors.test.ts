// A config file that does not parse: one line naming file:line:column, exit 2, nothing on stdout.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pop, ROOT, tmp, writeTree } from "./helpers.ts";

const conf = readFileSync(join(ROOT, "examples/poppy/conf.ts"), "utf8");

for (const [file, text, where] of [
  ["poppy.config.json", '{"port": 1,\n', "2:1: invalid JSON: property name expected"],
  ["poppy.config.json", '{\n  "port": 1\n  "addr": "x"\n}\n', "3:3: invalid JSON: comma expected"],
  ["poppy.config.jsonc", '{\n  // ok\n  "port": ,\n}\n', "3:11: invalid JSONC: value expected"],
  ["poppy.config.json5", "{\n port: ,\n}", "2:8: invalid JSON5: invalid character ','"],
  ["poppy.config.yaml", "port: [1\n", "2:1: invalid YAML: unexpected end of the stream within a flow collection"],
  ["poppy.config.toml", "port = \n", "1:8: invalid TOML: incomplete key-value declaration: no value specified"],
] as const) {
  test(`${file} with a syntax error: file:line:column (${where})`, async () => {
    const dir = writeTree(join(tmp(), "poppy"), { "conf.ts": conf, "poppy/init.ts": "export {};\n", [file]: text });
    const r = await pop(["config", "show", "."], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(`pop: ${file}:${where}\n`);
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
  });
}
