import { type Command, UsageError } from "../cli/_args.ts";

// Placeholder while the command is written: its owner replaces this file.
const command: Command = {
  meta: { name: "serve", description: "pop serve" },
  args: {},
  run() {
    throw new UsageError("pop serve is not built yet", "pop serve", { hint: false });
  },
};
export default command;
