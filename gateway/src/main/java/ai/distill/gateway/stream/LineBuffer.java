package ai.distill.gateway.stream;

import io.vertx.core.buffer.Buffer;
import java.util.Arrays;

/**
 * The bytes of an NDJSON upload received and not yet parsed: whole lines, then at most one partial
 * line. Chunks are copied in as they arrive (one copy, instead of one buffer per line) and parsed
 * in place. It holds what one chunk brings plus one partial line, which the owner bounds. Not
 * thread-safe: one stream's event loop uses it.
 */
final class LineBuffer {

  private static final int INITIAL = 64 * 1024;

  private byte[] bytes = new byte[INITIAL];
  private int start;
  private int end;
  private int noNewlineFrom = -1; // [noNewlineFrom, end) is known to hold no '\n'

  /** Copies {@code data} in after what is held. */
  void append(Buffer data) {
    int n = data.length();
    reserve(n);
    data.getBytes(0, n, bytes, end);
    end += n;
  }

  /** Ends a last line that has no {@code '\n'} (at the end of the upload). */
  void terminate() {
    if (end > start && bytes[end - 1] != '\n') {
      reserve(1);
      bytes[end++] = '\n';
    }
  }

  private void reserve(int n) {
    if (end + n <= bytes.length) {
      return;
    }
    int held = end - start;
    if (held + n > bytes.length || (start == end && bytes.length > 4 * INITIAL)) {
      bytes = Arrays.copyOfRange(bytes, start, start + Math.max(INITIAL, 2 * (held + n)));
    } else {
      System.arraycopy(bytes, start, bytes, 0, held);
    }
    if (noNewlineFrom >= 0) {
      noNewlineFrom -= start;
    }
    start = 0;
    end = held;
  }

  byte[] array() {
    return bytes;
  }

  /** Where the unparsed bytes start. */
  int start() {
    return start;
  }

  /**
   * The end of the last whole line held (just after its {@code '\n'}), or -1 when there is none.
   */
  int wholeLinesEnd() {
    int stop = noNewlineFrom >= 0 ? noNewlineFrom : start;
    for (int i = end - 1; i >= stop; i--) {
      if (bytes[i] == '\n') {
        return i + 1;
      }
    }
    noNewlineFrom = end;
    return -1;
  }

  /** Bytes held after the last whole line: the partial line. */
  int partialLength() {
    int whole = wholeLinesEnd();
    return end - (whole < 0 ? start : whole);
  }

  /** Marks everything before {@code position} parsed. */
  void consumeTo(int position) {
    start = position;
    if (start == end) {
      start = 0;
      end = 0;
      noNewlineFrom = -1;
    } else if (noNewlineFrom >= 0 && noNewlineFrom < start) {
      noNewlineFrom = -1;
    }
  }

  boolean isEmpty() {
    return start == end;
  }

  /** Drops everything. */
  void clear() {
    bytes = new byte[0];
    start = 0;
    end = 0;
    noNewlineFrom = -1;
  }
}
