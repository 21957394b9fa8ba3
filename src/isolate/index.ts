import { type Command, UsageError } from "../cli/_args.ts";

// Placeholder while isolation is written: its owner replaces this file.
export const CHILD_COMMAND: Command = {
  meta: { name: "__isolate-child", description: "isolated sub" },
  args: {},
  run() {
    throw new UsageError("process isolation is not built yet", "pop __isolate-child", { hint: false });
  },
};
