import type { Hub } from "pop";

/** The num-th Fibonacci number (num may arrive as a string over HTTP). */
export async function fib(hub: Hub, { num = 10 }: { num?: number | string } = {}): Promise<number> {
  const n = Number(num);
  if (n < 2) return n;
  let prev = 0;
  let curr = 1;
  for (let i = 1; i < n; i++) [prev, curr] = [curr, prev + curr];
  return curr;
}

/** Three times num. */
export async function triple(hub: Hub, { num = 10 }: { num?: number | string } = {}): Promise<number> {
  return Number(num) * 3;
}
