import { z } from "pop";

// fib's loop runs num times and nothing can stop a synchronous loop (not --timeout, not SIGTERM): a num of 1e12,
// or 1e400 (Infinity once JSON parses it), would keep the process busy for good. The schema bounds it before the
// call: a whole number from 0 to 1476 (fib(1477) is past the largest double); a string is read as a number.
const num = z.coerce.number().int().min(0).max(1476);

/** fib's keyword arguments, checked (and coerced) before each call: a bad num is refused (400 over HTTP). */
export const schema_fib = {
  arg: z
    .object({ num: num.default(10) })
    .strict()
    .prefault({}),
};
