// Pattern `spine`: the sub that holds a program's flow; the steps it calls are plugin functions.
import { addSub, testHeader } from "./_common.ts";

/** The files of a spine sub `n` in folder `dir`. */
export function spine(n: string, dir: string): Record<string, string> {
  return {
    [`${dir}/init.ts`]: `import type { Hub } from "pop";

// The spine pattern: this sub holds the flow of the program (what happens, in which order); the work is done by the
// functions it calls, in its own modules (steps.ts) or other subs, each replaceable by another plugin root.

/** Runs when the sub is added: the state of the flow lives on the sub. */
export function __init__(hub: Hub): void {
  hub.${n}.RUNS = 0;
}

/** The flow: parse the text into words, transform them, render the result. */
export function run(hub: Hub, { text = "hello world" }: { text?: string } = {}): string {
  hub.${n}.RUNS += 1;
  const words = hub.${n}.steps.parse({ text });
  return hub.${n}.steps.render({ words: hub.${n}.steps.transform({ words }) });
}
`,
    [`${dir}/steps.ts`]: `import type { Hub } from "pop";

/** Split the text into words. */
export function parse(hub: Hub, { text }: { text: string }): string[] {
  return text.split(/\\s+/).filter(Boolean);
}

/** Upper-case every word. */
export function transform(hub: Hub, { words }: { words: string[] }): string[] {
  return words.map((w) => w.toUpperCase());
}

/** Join the words back into a line. */
export function render(hub: Hub, { words }: { words: string[] }): string {
  return words.join(" ");
}
`,
    [`test/${n}.test.ts`]: `${testHeader()}${addSub(n)}
test("${n}.init.run goes through every step, in order", () => {
  expect(hub.${n}.init.run({ text: "plugin  oriented programming" })).toBe("PLUGIN ORIENTED PROGRAMMING");
  expect(hub.${n}.init.run()).toBe("HELLO WORLD");
  expect(hub.${n}.RUNS).toBe(2);
});

test("each step is a function of its own", () => {
  expect(hub.${n}.steps.parse({ text: " a b " })).toEqual(["a", "b"]);
  expect(hub.${n}.steps.render({ words: ["a", "b"] })).toBe("a b");
});
`,
  };
}

/** The files of a library sub `n` in folder `dir`. */
export function library(n: string, dir: string): Record<string, string> {
  return {
    [`${dir}/text.ts`]: `import type { Hub } from "pop";

// The library pattern: a sub of plain functions that any plugin calls through the hub (hub.${n}.text.slug(...)),
// with no flow or state of its own. Add modules (files) as the library grows.

/** The text as a URL slug: lower case, words joined by "-". */
export function slug(hub: Hub, { text }: { text: string }): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

/** How many words the text has. */
export function words(hub: Hub, { text }: { text: string }): number {
  return text.split(/\\s+/).filter(Boolean).length;
}
`,
    [`test/${n}.test.ts`]: `${testHeader()}${addSub(n)}
test("${n}.text.slug", () => {
  expect(hub.${n}.text.slug({ text: "Plugin Oriented Programming!" })).toBe("plugin-oriented-programming");
});

test("${n}.text.words", () => {
  expect(hub.${n}.text.words({ text: "one two  three" })).toBe(3);
  expect(hub.${n}.text.words({ text: "" })).toBe(0);
});
`,
  };
}
