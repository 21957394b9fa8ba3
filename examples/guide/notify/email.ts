import type { Hub } from "pop";

/** Send by email. */
export function send(hub: Hub, message: string): string {
  return `email: ${message}`;
}
