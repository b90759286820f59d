/**
 * Progress for long work: on a terminal one line redrawn in place; elsewhere (a pipe, a log file, CI
 * with CI set) nothing at all, so logs stay clean. Written to stderr: stdout stays the command's output.
 */
export interface ProgressLine {
  /** Redraws the line (throttled to ~10 per second, except the first and the last). */
  update(text: string): void;
  /** Clears the line; `final` (if given) stays printed. */
  done(final?: string): void;
  readonly interactive: boolean;
}

export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(s: string): unknown;
}

/** A terminal a person watches: a TTY, and not CI. */
export function isInteractive(stream: ProgressStream = process.stderr, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(stream.isTTY) && !env.CI;
}

const REDRAW_MS = 100;

export function createProgressLine(stream: ProgressStream = process.stderr, interactive = isInteractive(stream), nowMs: () => number = Date.now): ProgressLine {
  let shown = false;
  let lastMs = -Infinity;
  const fit = (text: string) => (stream.columns && text.length >= stream.columns ? `${text.slice(0, stream.columns - 2)}…` : text);
  return {
    interactive,
    update(text) {
      if (!interactive) return;
      const now = nowMs();
      if (shown && now - lastMs < REDRAW_MS) return;
      lastMs = now;
      stream.write(`\r\x1b[K${fit(text)}`);
      shown = true;
    },
    done(final) {
      if (interactive && shown) stream.write('\r\x1b[K');
      shown = false;
      if (final !== undefined && interactive) stream.write(`${final}\n`);
    },
  };
}
