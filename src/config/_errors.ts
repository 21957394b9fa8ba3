export { ConfigError } from "../errors.ts";
