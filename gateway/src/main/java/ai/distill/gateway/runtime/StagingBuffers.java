package ai.distill.gateway.runtime;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Per-thread reusable direct buffers into which an ORT worker stacks a batch's inputs, one per
 * input position. A buffer grows (to the next power of two) when a batch needs more and is then
 * kept, so memory is bounded by workers × inputs × the largest batch up to {@link #MAX_KEPT_BYTES};
 * a larger batch gets a one-off buffer instead. A buffer handed out stays valid until the same
 * thread asks for the same slot again, so callers must be done with it (their ORT tensor closed)
 * before their next batch.
 */
final class StagingBuffers {
  /** Buffers up to this size are kept for reuse; larger batches allocate a one-off buffer. */
  static final int MAX_KEPT_BYTES = 16 << 20;

  private static final ThreadLocal<ByteBuffer[]> BUFFERS =
      ThreadLocal.withInitial(() -> new ByteBuffer[0]);

  private StagingBuffers() {}

  /** A native-order direct buffer with position 0 and exactly {@code bytes} remaining. */
  static ByteBuffer get(int slot, long bytes) {
    if (bytes > MAX_KEPT_BYTES) {
      return ByteBuffer.allocateDirect(Math.toIntExact(bytes)).order(ByteOrder.nativeOrder());
    }
    ByteBuffer[] kept = BUFFERS.get();
    if (slot >= kept.length) {
      kept = Arrays.copyOf(kept, slot + 1);
      BUFFERS.set(kept);
    }
    ByteBuffer buffer = kept[slot];
    if (buffer == null || buffer.capacity() < bytes) {
      int capacity =
          (int)
              Math.min(
                  MAX_KEPT_BYTES, Math.max(4096, Long.highestOneBit(Math.max(1, bytes - 1)) << 1));
      buffer = ByteBuffer.allocateDirect(capacity);
      kept[slot] = buffer;
    }
    return buffer.duplicate().clear().limit((int) bytes).slice().order(ByteOrder.nativeOrder());
  }
}
