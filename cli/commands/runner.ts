/**
 * The contract between commands and `main.ts`: a command's body returns its exit code; `main.ts`
 * turns thrown errors into one line on stderr (exit 2 for usage and setup errors).
 * @module
 */

/** Runs a command body and records its exit code. */
export type CommandRunner = (body: () => Promise<number>) => Promise<void>;
