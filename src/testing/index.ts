import { type Command, UsageError } from "../cli/_args.ts";

// Placeholder while the command is written: its owner replaces this file.
const command: Command = {
  meta: { name: "test", description: "pop test" },
  args: {},
  run() {
    throw new UsageError("pop test is not built yet", "pop test", { hint: false });
  },
};
export default command;
