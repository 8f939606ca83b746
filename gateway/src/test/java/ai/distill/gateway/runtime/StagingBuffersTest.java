package ai.distill.gateway.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class StagingBuffersTest {

  @Test
  void hands_out_exact_native_order_direct_buffers() {
    ByteBuffer b = StagingBuffers.get(0, 100);
    assertTrue(b.isDirect());
    assertEquals(0, b.position());
    assertEquals(100, b.remaining());
    assertEquals(ByteOrder.nativeOrder(), b.order());
  }

  @Test
  void reuses_one_buffer_per_slot_on_a_thread_and_grows_it() {
    ByteBuffer first = StagingBuffers.get(0, 64);
    first.putLong(0, 42L);
    assertEquals(42L, StagingBuffers.get(0, 32).getLong(0), "same memory for the next batch");
    StagingBuffers.get(1, 64).putLong(0, 7L);
    assertEquals(42L, StagingBuffers.get(0, 64).getLong(0), "slots do not share memory");

    ByteBuffer grown = StagingBuffers.get(0, 1 << 16);
    assertEquals(1 << 16, grown.remaining());
    grown.putLong(0, 99L);
    assertEquals(99L, StagingBuffers.get(0, 8).getLong(0), "the grown buffer is kept");
  }

  @Test
  void threads_do_not_share_buffers() throws Exception {
    StagingBuffers.get(0, 64).putLong(0, 1L);
    long other =
        CompletableFuture.supplyAsync(
                () -> {
                  ByteBuffer b = StagingBuffers.get(0, 64);
                  b.putLong(0, 2L);
                  return b.getLong(0);
                })
            .get();
    assertEquals(2L, other);
    assertEquals(1L, StagingBuffers.get(0, 64).getLong(0));
  }

  @Test
  void batches_beyond_the_cap_get_a_one_off_buffer() {
    StagingBuffers.get(2, 64).putLong(0, 5L);
    ByteBuffer big = StagingBuffers.get(2, StagingBuffers.MAX_KEPT_BYTES + 8L);
    assertEquals(StagingBuffers.MAX_KEPT_BYTES + 8, big.remaining());
    big.putLong(0, 6L);
    assertNotEquals(6L, StagingBuffers.get(2, 64).getLong(0));
    assertEquals(5L, StagingBuffers.get(2, 64).getLong(0), "the kept buffer is untouched");
  }
}
