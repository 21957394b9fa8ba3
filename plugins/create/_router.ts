// Patterns `router` and `dispatch`: a request or an event names the plugin that handles it.
import { addSub, testHeader } from "./_common.ts";

/** The files of a router sub `n` in folder `dir`. */
export function router(n: string, dir: string): Record<string, string> {
  return {
    [`${dir}/init.ts`]: `import type { Hub } from "pop";

// The router pattern (the POP tutorial's rpc sub): a request names the function that answers it,
// { ref: "greet.hello", kwargs: { name: "pop" } }, and the router calls hub.${n}.greet.hello(kwargs). A new module of
// this sub is a new route, with no table to edit.

/** Answer a request by calling the function its ref names in this sub. */
export async function route(hub: Hub, { ref, kwargs = {} }: { ref: string; kwargs?: Record<string, unknown> }): Promise<unknown> {
  if (ref.startsWith("init.")) throw new Error(\`"\${ref}" is the router itself, not a route\`);
  const fn = hub.pop.ref.last(\`${n}.\${ref}\`); // an unknown ref throws, saying which ref was meant
  if (typeof fn !== "function") throw new Error(\`"${n}.\${ref}" is not a function\`);
  return await fn(kwargs);
}
`,
    [`${dir}/greet.ts`]: `import type { Hub } from "pop";

/** A route: { ref: "greet.hello", kwargs: { name } }. */
export function hello(hub: Hub, { name = "world" }: { name?: string } = {}): string {
  return \`hello, \${name}\`;
}
`,
    [`test/${n}.test.ts`]: `${testHeader()}${addSub(n)}
test("${n}.init.route calls the function the request names", async () => {
  expect(await hub.${n}.init.route({ ref: "greet.hello", kwargs: { name: "pop" } })).toBe("hello, pop");
  expect(await hub.${n}.init.route({ ref: "greet.hello" })).toBe("hello, world");
});

test("an unknown route is an error that says what was meant", async () => {
  await expect(hub.${n}.init.route({ ref: "greet.helo" })).rejects.toThrow('did you mean "${n}.greet.hello"?');
  await expect(hub.${n}.init.route({ ref: "init.route" })).rejects.toThrow("not a route");
});
`,
  };
}

/** The files of a dispatch sub `n` in folder `dir`. */
export function dispatch(n: string, dir: string): Record<string, string> {
  return {
    [`${dir}/init.ts`]: `import type { Hub } from "pop";

// The dispatch pattern (stevedore's dispatcher): every handler module of this sub is there, and each event goes to
// the one its kind names: { kind: "created", id: 7 } to hub.${n}.created.receive(event). A new kind of event is a
// new module.

/** Hand the event to the module its kind names; resolves to what that handler returned. */
export async function handle(hub: Hub, event: { kind: string; id?: number }): Promise<unknown> {
  const results = await hub.pop.invoke.dispatch({ sub: "${n}", func: "receive", args: [event], names: [event.kind] });
  return results[event.kind];
}
`,
    [`${dir}/created.ts`]: `import type { Hub } from "pop";

/** Handles { kind: "created" } events. */
export function receive(hub: Hub, event: { id?: number }): string {
  return \`created \${event.id ?? "?"}\`;
}
`,
    [`${dir}/deleted.ts`]: `import type { Hub } from "pop";

/** Handles { kind: "deleted" } events. */
export function receive(hub: Hub, event: { id?: number }): string {
  return \`deleted \${event.id ?? "?"}\`;
}
`,
    [`test/${n}.test.ts`]: `${testHeader()}${addSub(n)}
test("${n}.init.handle sends each event to the module its kind names", async () => {
  expect(await hub.${n}.init.handle({ kind: "created", id: 7 })).toBe("created 7");
  expect(await hub.${n}.init.handle({ kind: "deleted", id: 7 })).toBe("deleted 7");
});

test("an event no module handles is an error", async () => {
  await expect(hub.${n}.init.handle({ kind: "renamed" })).rejects.toThrow("renamed");
  await expect(hub.${n}.init.handle({ kind: "init" })).rejects.toThrow("receive");
});
`,
  };
}
