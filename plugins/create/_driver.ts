// Patterns `driver` and `map`: one plugin of the sub in use at a time, or every plugin in turn.
import { addSub, testHeader } from "./_common.ts";

/** The files of a driver sub `n` in folder `dir`. */
export function driver(n: string, dir: string): Record<string, string> {
  return {
    [`${dir}/init.ts`]: `import type { Hub } from "pop";

// The driver pattern (stevedore's driver): the sub's modules are interchangeable backends, one in use at a time
// (hub.${n}.DRIVER, e.g. from an option); contracts/init.ts says what every backend must export, and a module that
// lacks one is not loaded. A new backend is a new module.

/** Runs when the sub is added: memory is the backend until another is chosen. */
export function __init__(hub: Hub): void {
  hub.${n}.DRIVER = "memory";
}

/** Use another backend from now on: a module of this sub (an unknown name throws, saying which exist). */
export function use(hub: Hub, { name }: { name: string }): void {
  hub.pop.invoke.driver({ sub: "${n}", name });
  hub.${n}.DRIVER = name;
}

/** Store a value through the backend in use. */
export function put(hub: Hub, { key, value }: { key: string; value: string }): void {
  hub.pop.invoke.driver({ sub: "${n}", name: hub.${n}.DRIVER }).put({ key, value });
}

/** Read a value through the backend in use. */
export function get(hub: Hub, { key }: { key: string }): string | undefined {
  return hub.pop.invoke.driver({ sub: "${n}", name: hub.${n}.DRIVER }).get({ key });
}
`,
    [`${dir}/contracts/init.ts`]: `// Every backend of the ${n} sub exports put and get with these parameters (sig contracts, checked at load).
export function sig_put(hub: unknown, { key, value }: { key: string; value: string }): void {}
export function sig_get(hub: unknown, { key }: { key: string }): string | undefined {
  return undefined;
}
`,
    [`${dir}/memory.ts`]: `import type { Hub } from "pop";

/** The backend's state lives on the sub, made when the module loads. */
export function __init__(hub: Hub): void {
  hub.${n}.MEMORY = new Map<string, string>();
}

/** Keep the value. */
export function put(hub: Hub, { key, value }: { key: string; value: string }): void {
  hub.${n}.MEMORY.set(key, value);
}

/** The value kept, if any. */
export function get(hub: Hub, { key }: { key: string }): string | undefined {
  return hub.${n}.MEMORY.get(key);
}
`,
    [`${dir}/journal.ts`]: `import type { Hub } from "pop";

/** Every version of every value, oldest first. */
export function __init__(hub: Hub): void {
  hub.${n}.JOURNAL = new Map<string, string[]>();
}

/** Add a version of the value. */
export function put(hub: Hub, { key, value }: { key: string; value: string }): void {
  hub.${n}.JOURNAL.set(key, [...(hub.${n}.JOURNAL.get(key) ?? []), value]);
}

/** The latest version. */
export function get(hub: Hub, { key }: { key: string }): string | undefined {
  return hub.${n}.JOURNAL.get(key)?.at(-1);
}

/** Every version, oldest first: more than the contract asks, which a backend may offer. */
export function history(hub: Hub, { key }: { key: string }): string[] {
  return hub.${n}.JOURNAL.get(key) ?? [];
}
`,
    [`test/${n}.test.ts`]: `${testHeader()}${addSub(n)}
test("the memory backend is in use at first", () => {
  hub.${n}.init.put({ key: "a", value: "1" });
  expect(hub.${n}.init.get({ key: "a" })).toBe("1");
  expect(hub.${n}.DRIVER).toBe("memory");
});

test("another backend is chosen by name", () => {
  hub.${n}.init.use({ name: "journal" });
  hub.${n}.init.put({ key: "a", value: "1" });
  hub.${n}.init.put({ key: "a", value: "2" });
  expect(hub.${n}.init.get({ key: "a" })).toBe("2");
  expect(hub.${n}.journal.history({ key: "a" })).toEqual(["1", "2"]);
});

test("an unknown backend is refused and the one in use stays", () => {
  expect(() => hub.${n}.init.use({ name: "nope" })).toThrow("nope");
  expect(hub.${n}.DRIVER).toBe("journal");
});
`,
  };
}

/** The files of a map (iterator) sub `n` in folder `dir`. */
export function map(n: string, dir: string): Record<string, string> {
  return {
    [`${dir}/init.ts`]: `import type { Hub } from "pop";

// The map pattern (stevedore's iterator): every module of this sub that exports poll() is called in turn and each
// contributes to the result; one that fails is reported and does not stop the others. A new source is a new module.

/** Poll every source: { module: value }, or { module: "error: ..." } for one that failed. */
export async function report(hub: Hub): Promise<Record<string, unknown>> {
  const results = await hub.pop.invoke.map({ sub: "${n}", func: "poll" });
  return Object.fromEntries(results.map((r: { module: string; ok: boolean; value?: unknown; error?: unknown }) => [r.module, r.ok ? r.value : \`error: \${(r.error as Error).message}\`]));
}
`,
    [`${dir}/counter.ts`]: `import type { Hub } from "pop";

/** How many times it has been polled. */
export function poll(hub: Hub): number {
  hub.${n}.POLLS = (hub.${n}.POLLS ?? 0) + 1;
  return hub.${n}.POLLS;
}
`,
    [`${dir}/platform.ts`]: `import type { Hub } from "pop";

/** The operating system pop runs on. */
export function poll(hub: Hub): string {
  return process.platform;
}
`,
    [`${dir}/remote.ts`]: `import type { Hub } from "pop";

/** A source that is down: map() reports its error and goes on with the others. */
export function poll(hub: Hub): never {
  throw new Error("remote source unreachable");
}
`,
    [`test/${n}.test.ts`]: `${testHeader()}${addSub(n)}
test("${n}.init.report polls every source; a failing one does not stop the others", async () => {
  expect(await hub.${n}.init.report()).toEqual({ counter: 1, platform: process.platform, remote: "error: remote source unreachable" });
  expect((await hub.${n}.init.report()).counter).toBe(2);
});
`,
  };
}
