/** A minimal server-sent-event reader over fetch streaming, for tests: frames as they arrive. */
export interface SseFrame {
  id?: string;
  event?: string;
  data?: string;
  /** Comment lines (": ..."), e.g. heartbeats. */
  comments: string[];
  retry?: number;
}

export interface SseStream {
  status: number;
  headers: Headers;
  frames: SseFrame[];
  /** Resolves once `n` frames that satisfy `pred` have arrived (counting from the stream's start). */
  waitFor(n: number, pred?: (f: SseFrame) => boolean, timeoutMs?: number): Promise<SseFrame[]>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

export function parseFrame(block: string): SseFrame {
  const f: SseFrame = { comments: [] };
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) f.comments.push(line.slice(1).trim());
    else {
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
      if (field === 'id') f.id = value;
      else if (field === 'event') f.event = value;
      else if (field === 'data') f.data = f.data === undefined ? value : `${f.data}\n${value}`;
      else if (field === 'retry') f.retry = Number(value);
    }
  }
  return f;
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const abort = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  const frames: SseFrame[] = [];
  let wake: (() => void)[] = [];
  let buffer = '';
  const decoder = new TextDecoder();
  const ended = (async () => {
    if (!res.body) return;
    const reader = res.body.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let i: number;
        while ((i = buffer.indexOf('\n\n')) >= 0) {
          frames.push(parseFrame(buffer.slice(0, i)));
          buffer = buffer.slice(i + 2);
        }
        for (const w of wake) w();
      }
    } catch {
      // aborted by close()
    }
    for (const w of wake) w();
  })();
  return {
    status: res.status,
    headers: res.headers,
    frames,
    ended,
    waitFor(n, pred = () => true, timeoutMs = 3000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const got = frames.filter(pred);
          if (got.length >= n) {
            clearTimeout(timer);
            wake = wake.filter((w) => w !== check);
            resolve(got.slice(0, n));
          }
        };
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${n} SSE frames, have ${frames.filter(pred).length}`)), timeoutMs);
        wake.push(check);
        check();
      });
    },
    close: () => abort.abort(),
  };
}
