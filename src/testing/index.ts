/** `pop test` and the helpers test files import from "pop" (testHub, mockHub): docs/testing.md. */
export { command as default } from "./_command.ts";
export { closeTestHubs, testHub, type TestHubOptions } from "./_hub.ts";
export { mockHub, type MockHub, type MockHubOptions, type StandIn } from "./_mock.ts";
