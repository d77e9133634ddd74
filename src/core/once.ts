/**
 * Something built once, on first demand, and shared by every caller after; if
 * building it fails, the failure goes to the callers that waited and the next
 * call builds again (a missing file fixed, a module installed), rather than
 * answering every request with the same old error.
 */
export function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () =>
    (made ??= make().catch((error: unknown) => {
      made = undefined;
      throw error;
    }));
}
