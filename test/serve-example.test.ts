// GET /'s example request: arguments read from the served function's parameters, so the pasted curl computes something.
import { expect, test } from "bun:test";
import { exampleArgs } from "../src/serve/_server.ts";

test("kwargs from a destructured parameter: defaults, else a value of the declared type; positional args likewise", () => {
  expect(exampleArgs("{ num = 10 }: { num?: number | string } = {}")).toEqual({ kwargs: { num: 10 } });
  expect(exampleArgs("{ a, b }: { a: number; b: number }")).toEqual({ kwargs: { a: 1, b: 1 } });
  expect(exampleArgs("{ s, on, x }: { s: string; on?: boolean; x: Date }")).toEqual({ kwargs: { s: "text", on: true, x: null } });
  expect(exampleArgs("{ item }")).toEqual({ kwargs: { item: null } });
  expect(exampleArgs("a: number, b: number")).toEqual({ args: [1, 1] });
  expect(exampleArgs("name: string, times = 2")).toEqual({ args: ["text", 2] });
  expect(exampleArgs("")).toEqual({ kwargs: {} });
  expect(exampleArgs("...rest: unknown[]")).toEqual({ kwargs: {} });
  expect(exampleArgs("m: Map<string, number>")).toEqual({ kwargs: {} });
});
