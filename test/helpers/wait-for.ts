// Polling for a condition in real time (tests on the dev server, where time does not skip).
/** Polls until `read` returns a value (not undefined); errors count as "not yet". */
export async function waitFor<T>(
  read: () => T | undefined | Promise<T | undefined>,
  what: string,
  { timeoutMs = 60_000, intervalMs = 100 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no value yet';
  for (;;) {
    try {
      const value = await read();
      if (value !== undefined) return value;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() > deadline) throw new Error(`expected ${what} within ${timeoutMs / 1000} s; last: ${last}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
