/**
 * The default access log's writer: lines to stderr, written together once per
 * turn of the event loop instead of one `write` each.
 *
 * Why: stderr on a pipe or a file is written synchronously by Node, one system
 * call a line. Under load that measured about 28 µs of server CPU a request on
 * this machine (a 1 KiB file, 50 keep-alive connections, stderr a pipe: 66-71
 * µs a request against 38-41 with `-q`); a turn that answers many requests now
 * writes their lines in a few calls.
 *
 * Each write is at most 4,096 bytes (PIPE_BUF), which POSIX makes atomic on a
 * pipe: `--workers` share one stderr, and a longer write could be split by
 * another worker's in the middle of a line. So lines are written once the next
 * would take the batch past {@link BATCH_UNITS} (a line longer than that goes
 * alone, as it always did). A line waits at most until the end of its turn; the
 * ones still waiting are written when the process exits, and a process killed
 * outright (SIGKILL) loses at most that one turn's lines.
 */

/** UTF-16 units a batch may hold: at most 3 bytes each in UTF-8, so at most 4,095 bytes written. */
export const BATCH_UNITS = Math.floor(4096 / 3);

/** A line writer: `line(text)` takes one line without its newline. */
export interface LineBatcher {
  line(text: string): void;
  /** Writes what is pending now. */
  flush(): void;
}

/**
 * Lines joined and handed to `write` once per turn (setImmediate), or sooner when
 * the next line would take the batch past `limit` UTF-16 units; `flush` writes
 * what is pending (call it on exit).
 */
export function lineBatcher(write: (text: string) => void, limit = BATCH_UNITS): LineBatcher {
  let pending = "";
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (pending === "") return;
    const text = pending;
    pending = "";
    write(text);
  };
  return {
    line(text) {
      if (pending !== "" && pending.length + text.length + 1 > limit) {
        const full = pending;
        pending = "";
        write(full);
      }
      pending += `${text}\n`;
      if (!scheduled) {
        scheduled = true;
        // Unreferenced: a pending line never keeps the process alive (exit flushes it).
        setImmediate(flush).unref();
      }
    },
    flush,
  };
}

let stderrBatcher: LineBatcher | undefined;

/** The process's one batched stderr writer, made on first use (with its flush on exit). */
export function stderrLines(): LineBatcher {
  if (stderrBatcher === undefined) {
    const batcher = lineBatcher((text) => void process.stderr.write(text));
    process.on("exit", () => batcher.flush());
    stderrBatcher = batcher;
  }
  return stderrBatcher;
}
