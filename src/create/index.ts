import { type Command, UsageError } from "../cli/_args.ts";

// Placeholder while the command is written: its owner replaces this file.
const command: Command = {
  meta: { name: "create", description: "pop create" },
  args: {},
  run() {
    throw new UsageError("pop create is not built yet", "pop create", { hint: false });
  },
};
export default command;
