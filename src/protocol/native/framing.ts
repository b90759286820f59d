/**
 * Length-delimited framing for the control channel: each frame is a 4-byte big-endian payload length
 * followed by the payload (one encoded Message). Pure: the runtimes feed socket chunks in.
 */

export const FRAME_HEADER_BYTES = 4;
/** Largest payload accepted or sent: 1 MiB (a full flow dump travels as several replies). */
export const MAX_FRAME_BYTES = 1024 * 1024;
/**
 * Largest payload accepted before the handshake is done: Hello and a FeaturesReply (a port is ~30
 * bytes, so thousands of ports fit). Nothing bigger has a reason to come from a peer not yet known.
 */
export const HANDSHAKE_MAX_FRAME_BYTES = 64 * 1024;

export type FrameEvent = { type: 'frame'; frame: Buffer } | { type: 'oversized'; length: number };

/** Prefix a payload with its length. */
export function frame(payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  out.writeUInt32BE(payload.length, 0);
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

/**
 * Incremental decoder: push chunks as they arrive, get back the complete frames (payloads without the
 * length prefix). A frame announcing more than `maxFrameBytes` is reported once as `oversized` and its
 * bytes are skipped as they arrive, so the stream stays in step and the connection can survive.
 */
export class FrameDecoder {
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  /** Bytes the frame at the head of the buffer needs in all (header included); 4 while unknown. */
  private needed = FRAME_HEADER_BYTES;
  private skipBytes = 0;
  /** Frames reported oversized so far (a counter for the runtime's drop statistics). */
  oversizedCount = 0;

  /** Largest payload accepted; a runtime may lower it (before a peer is known) or raise it again. */
  constructor(public maxFrameBytes = MAX_FRAME_BYTES) {}

  /** Bytes held waiting for the rest of a frame. */
  get pendingBytes(): number {
    return this.bufferedBytes;
  }

  push(chunk: Uint8Array): FrameEvent[] {
    const events: FrameEvent[] = [];
    let data = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.skipBytes > 0) {
      const n = Math.min(this.skipBytes, data.length);
      this.skipBytes -= n;
      data = data.subarray(n);
    }
    if (data.length === 0) return events;
    this.buffered.push(data);
    this.bufferedBytes += data.length;
    // Join the chunks only once the head frame is complete: a peer trickling a large frame byte by
    // byte must not make us copy the growing buffer on every chunk.
    if (this.bufferedBytes < this.needed) return events;
    const buf = this.buffered.length === 1 ? this.buffered[0] : Buffer.concat(this.buffered, this.bufferedBytes);
    let off = 0;
    while (buf.length - off >= FRAME_HEADER_BYTES) {
      const length = buf.readUInt32BE(off);
      if (length > this.maxFrameBytes) {
        this.oversizedCount++;
        events.push({ type: 'oversized', length });
        off += FRAME_HEADER_BYTES;
        const available = Math.min(length, buf.length - off);
        off += available;
        this.skipBytes = length - available;
        continue;
      }
      if (buf.length - off < FRAME_HEADER_BYTES + length) break;
      // Copy out: the payload must not pin (or alias) the socket's chunk.
      events.push({ type: 'frame', frame: Buffer.from(buf.subarray(off + FRAME_HEADER_BYTES, off + FRAME_HEADER_BYTES + length)) });
      off += FRAME_HEADER_BYTES + length;
    }
    const rest = buf.subarray(off);
    this.buffered = rest.length > 0 ? [rest] : [];
    this.bufferedBytes = rest.length;
    this.needed = rest.length >= FRAME_HEADER_BYTES ? FRAME_HEADER_BYTES + rest.readUInt32BE(0) : FRAME_HEADER_BYTES;
    return events;
  }

  reset(): void {
    this.buffered = [];
    this.bufferedBytes = 0;
    this.needed = FRAME_HEADER_BYTES;
    this.skipBytes = 0;
  }
}
