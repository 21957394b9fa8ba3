import { type Command, UsageError } from "../cli/_args.ts";

// Placeholder while the command is written: its owner replaces this file.
const command: Command = {
  meta: { name: "types", description: "pop types" },
  args: {},
  run() {
    throw new UsageError("pop types is not built yet", "pop types", { hint: false });
  },
};
export default command;
