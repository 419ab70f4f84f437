/**
 * Builds `c_reflector.c`, the machine's floor for experiment 1: the reflector with no runtime
 * behind it. The benchmark compiles it at the start of a run with the machine's C compiler, so
 * that the floor is measured with the same kernel and CPUs as everything else; without a
 * compiler that side is left out and the run says so.
 * @module
 */

const SOURCE = new URL("./c_reflector.c", import.meta.url).pathname;

/**
 * Compiles the C reflector into `dir` with `$CC` (default `cc`) and returns the binary's path,
 * or an Error saying why it could not (no compiler, or the compiler's first line of complaint).
 * @example
 * ```ts
 * const built = await buildCReflector(await Deno.makeTempDir());
 * if (built instanceof Error) console.error(built.message);
 * ```
 */
export async function buildCReflector(dir: string): Promise<string | Error> {
  const compiler = Deno.env.get("CC") || "cc";
  const binary = `${dir}/c_reflector`;
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(compiler, {
      args: ["-O2", "-Wall", "-o", binary, SOURCE],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return new Error(`no C compiler (${compiler}) on this machine`);
    }
    throw error;
  }
  if (!output.success) {
    const firstLine = new TextDecoder().decode(output.stderr).split("\n").find((l) => l.trim());
    return new Error(`${compiler} failed: ${firstLine ?? `exit ${output.code}`}`);
  }
  return binary;
}
