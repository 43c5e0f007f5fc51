// The message a loader refuses input with; a test that expects a refusal fails when the input is accepted.
export function refusalOf(load: () => unknown, what: string): string {
  try {
    load();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`expected ${what} to be refused; it was accepted`);
}
