// What the built-in templates share (a `_` file: not a template itself).

/** The import line and hub of a generated test file: the project's hub, loaded the way `pop app` loads it. */
export function testHeader(extra = "", names = "testHub"): string {
  return `import { expect, test } from "bun:test";
import { ${names} } from "pop";
${extra}
// The project's hub, loaded the way \`pop app\` loads it (conf.ts, DYNE, every plugin root); closed after the run.
const hub = await testHub(import.meta.dir + "/..");
`;
}

/** The line that puts a sub on the test's hub: a project's own \`__init__\` may add it already (adding twice is a no-op). */
export function addSub(name: string): string {
  return `await hub.pop.sub.add({ dyneName: ${JSON.stringify(name)} });\n`;
}

/** Where a sub's folder is in a project with a DYNE: the folder it lists, else a folder of the sub's name. */
export function subDir(dyne: Record<string, string[]> | undefined, sub: string): string {
  const listed = dyne?.[sub]?.[0];
  return listed === undefined ? sub : listed.replace(/^\.\//, "").replace(/\/+$/, "");
}

/** A path as one shell word, for the `next:` lines (src/errors.ts shellWord). */
export { shellWord } from "../../src/hub/_internal.ts";
