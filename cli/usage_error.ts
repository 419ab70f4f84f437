/**
 * The error for bad command-line input: `main.ts` prints its message on one line and exits 2.
 * @module
 */

/** A user mistake on the command line (exit code 2). */
export class UsageError extends Error {
  /** Creates the error with a one-line message. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Exit codes shared by every subcommand, as in `ping` and `nc`. */
export const ExitCode = { Ok: 0, Failure: 1, Usage: 2 } as const;
