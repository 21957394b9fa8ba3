import type { Hub } from "pop";

// Lacks load(): the sig contract keeps this module off the hub, and pop tree says why.
export function save(hub: Hub, { key, value }: { key: string; value: string }): void {}
