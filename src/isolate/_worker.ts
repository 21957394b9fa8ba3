// The entry point of a worker-isolated sub (built into the executable as its own entry point). Placeholder: its owner fills it in.
export {};
