export { ConfigError } from "../errors.ts";

/** `--help` was given on a project's command line: `text` is the help to print (to stdout, exit 0). */
export class ConfigHelp extends Error {
  override name = "ConfigHelp";
  readonly exitCode = 0;
  readonly text: string;
  constructor(text: string) {
    super("help requested");
    this.text = text;
  }
}
