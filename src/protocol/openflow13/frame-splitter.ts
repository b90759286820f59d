/**
 * Split an OpenFlow TCP byte stream into whole messages by the header's length field. Incremental:
 * chunks may cut messages anywhere. A length below the header size or above the cap cannot be resynced
 * (OpenFlow has no frame marker), so the splitter reports a fatal error and the session must close.
 */
import { OFP_HEADER_LEN, OFP_MAX_MESSAGE_LEN } from './constants.js';

export interface FrameSplitResult {
  frames: Buffer[];
  /** Set once the stream is unusable; later pushes return it again and no frames. */
  error?: { code: 'OVC_ERR_PROTO_MALFORMED' | 'OVC_ERR_PROTO_OVERSIZED'; reason: string };
}

export interface Of13FrameSplitter {
  push(chunk: Buffer): FrameSplitResult;
  /** Bytes held waiting for the rest of a message. */
  readonly pending: number;
}

export interface FrameSplitterOptions {
  /** Largest accepted message (default and maximum: 65535, the length field's range). */
  maxFrameBytes?: number;
}

export function createOf13FrameSplitter(options: FrameSplitterOptions = {}): Of13FrameSplitter {
  const cap = Math.min(options.maxFrameBytes ?? OFP_MAX_MESSAGE_LEN, OFP_MAX_MESSAGE_LEN);
  let rest: Buffer = Buffer.alloc(0);
  let error: FrameSplitResult['error'];

  return {
    get pending() {
      return rest.length;
    },
    push(chunk: Buffer): FrameSplitResult {
      if (error) return { frames: [], error };
      const buf = rest.length === 0 ? chunk : Buffer.concat([rest, chunk]);
      const frames: Buffer[] = [];
      let off = 0;
      while (buf.length - off >= 4) {
        const len = (buf[off + 2] << 8) | buf[off + 3];
        if (len < OFP_HEADER_LEN) {
          error = { code: 'OVC_ERR_PROTO_MALFORMED', reason: `message length ${len} below the header size` };
          break;
        }
        if (len > cap) {
          error = { code: 'OVC_ERR_PROTO_OVERSIZED', reason: `message length ${len} above the cap ${cap}` };
          break;
        }
        if (buf.length - off < len) break;
        // subarray shares memory with the received chunk: no copy on the receive path.
        frames.push(buf.subarray(off, off + len));
        off += len;
      }
      if (error) {
        rest = Buffer.alloc(0);
        return { frames, error };
      }
      // Copy the tail so a small leftover does not pin a large receive buffer.
      rest = off === buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(off));
      return { frames };
    },
  };
}
