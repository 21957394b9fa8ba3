// How errors cross between a host and an isolated side: by class, name, code, message, stack and pop's fields.
import { describe, expect, test } from "bun:test";
import { ContractError, PluginLoadError, PopError, RefError, ShutdownError, TimeoutError } from "../src/errors.ts";
import { fromWire, toWire } from "../src/isolate/_protocol.ts";

/** What the other side gets: the wire form, structured-cloned as postMessage and IPC do, turned back. */
const cross = (e: unknown) => fromWire(structuredClone(toWire(e))) as any;

describe("isolate protocol: errors", () => {
  test("pop's errors keep their class, code, exit code and fields", () => {
    const ref = cross(new RefError('no function "a.b"', "a.b", "a.c"));
    expect(ref).toBeInstanceOf(RefError);
    expect(ref).toBeInstanceOf(PopError);
    expect([ref.name, ref.code, ref.exitCode, ref.ref, ref.suggestion, ref.message]).toEqual(["RefError", "POP_REF", 2, "a.b", "a.c", 'no function "a.b"']);
    const contract = cross(new ContractError("Invalid argument", "m.f", "qty"));
    expect(contract).toBeInstanceOf(ContractError);
    expect([contract.field, contract.ref, contract.code]).toEqual(["qty", "m.f", "POP_CONTRACT"]);
    const load = cross(new PluginLoadError("s.m", { file: "/p/s/m.ts", line: 3 }, "threw Error: boom"));
    expect(load).toBeInstanceOf(PluginLoadError);
    expect(load.location).toEqual({ file: "/p/s/m.ts", line: 3 });
    expect(load.message).toBe('/p/s/m.ts:3: module "s.m" not loaded: threw Error: boom');
    expect(cross(new TimeoutError("late", 300)).ms).toBe(300);
    const down = cross(new ShutdownError([new Error("a"), new TimeoutError("b", 5)]));
    expect(down).toBeInstanceOf(ShutdownError);
    expect(down.errors[1]).toBeInstanceOf(TimeoutError);
  });

  test("built-in errors keep their class, others their name; the stack crosses", () => {
    const type = new TypeError("not a number");
    const t = cross(type);
    expect(t).toBeInstanceOf(TypeError);
    expect(t.stack).toBe(type.stack);
    class QuotaError extends Error {
      override name = "QuotaError";
      code = "E_QUOTA";
    }
    const q = cross(new QuotaError("over quota"));
    expect(q).not.toBeInstanceOf(PopError);
    expect([q.name, q.code, q.message]).toEqual(["QuotaError", "E_QUOTA", "over quota"]);
    class RemoteishError extends PopError {
      override name = "RemoteishError";
      override readonly code: string = "POP_REMOTEISH";
      override readonly exitCode: number = 3;
    }
    const r = cross(new RemoteishError("far away"));
    expect(r).toBeInstanceOf(PopError); // a tool's own PopError class: still a PopError, its code and exit code kept
    expect([r.name, r.code, r.exitCode]).toEqual(["RemoteishError", "POP_REMOTEISH", 3]);
    const plain = cross(Object.assign(new Error("x"), { name: "Weird" }));
    expect(plain).toBeInstanceOf(Error);
    expect(plain.name).toBe("Weird");
  });

  test("a thrown value that is not an Error crosses as itself, or as its text when it cannot be cloned", () => {
    expect(cross("just a string")).toBe("just a string");
    expect(cross({ reason: 42 })).toEqual({ reason: 42 });
    const f = cross(() => 1);
    expect(f).toBeInstanceOf(Error);
    expect(f.message).toBe("() => 1");
  });
});
