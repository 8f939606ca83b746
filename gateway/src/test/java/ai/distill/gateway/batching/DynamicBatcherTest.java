package ai.distill.gateway.batching;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The batcher alone: a fake runner that records the batches it sees, no ORT, no HTTP. */
@ExtendWith(VertxExtension.class)
class DynamicBatcherTest {

  /**
   * A request of {@code rows} rows whose result is {@code value * 10}; a batch that starts with
   * value 0 (the blocker) waits for the test's gate.
   */
  record Req(int value, int rows) {}

  WorkerExecutor workers;
  ScheduledExecutorService timer;
  final List<List<Integer>> batches = new CopyOnWriteArrayList<>();
  final List<Integer> batchRows = new CopyOnWriteArrayList<>();

  @BeforeEach
  void setUp(Vertx vertx) {
    workers = vertx.createSharedWorkerExecutor("test-ort", 2);
    timer = Executors.newSingleThreadScheduledExecutor();
  }

  @AfterEach
  void tearDown() {
    workers.close();
    timer.shutdownNow();
  }

  DynamicBatcher<Req, Integer> batcher(
      Vertx vertx, BatchingConfig config, int concurrent, CountDownLatch gate) {
    BatchObserver observer =
        new BatchObserver() {
          @Override
          public void batchRan(int rows, long nanos) {
            batchRows.add(rows);
          }
        };
    return new DynamicBatcher<>(
        "test:1",
        vertx,
        workers,
        concurrent,
        timer,
        config,
        Req::rows,
        batch -> {
          if (batch.get(0).value() == 0) {
            gate.await(10, TimeUnit.SECONDS);
          }
          List<Integer> values = new ArrayList<>();
          List<Integer> out = new ArrayList<>();
          for (Req r : batch) {
            if (r.value() < 0) {
              throw new IllegalArgumentException("negative value " + r.value());
            }
            values.add(r.value());
            out.add(r.value() * 10);
          }
          batches.add(values);
          return out;
        },
        observer);
  }

  @Test
  void merges_requests_that_queue_while_a_batch_runs(Vertx vertx, VertxTestContext test)
      throws Exception {
    CountDownLatch gate = new CountDownLatch(1);
    DynamicBatcher<Req, Integer> b = batcher(vertx, new BatchingConfig(100, 0, 1000), 1, gate);
    List<Future<Integer>> results = new ArrayList<>();
    results.add(b.submit(new Req(0, 1))); // runs at once and blocks on the gate
    for (int i = 1; i <= 5; i++) {
      results.add(b.submit(new Req(i, 2))); // queue behind it
    }
    gate.countDown();
    Future.all(results)
        .onComplete(
            test.succeeding(
                all ->
                    test.verify(
                        () -> {
                          for (int i = 0; i <= 5; i++) {
                            assertEquals(i * 10, results.get(i).result());
                          }
                          assertEquals(List.of(List.of(0), List.of(1, 2, 3, 4, 5)), batches);
                          assertEquals(List.of(1, 10), batchRows);
                          test.completeNow();
                        })));
    assertTrue(test.awaitCompletion(10, TimeUnit.SECONDS));
  }

  @Test
  void never_exceeds_max_batch_rows(Vertx vertx) throws Exception {
    CountDownLatch gate = new CountDownLatch(1);
    DynamicBatcher<Req, Integer> b = batcher(vertx, new BatchingConfig(4, 0, 1000), 1, gate);
    List<Future<Integer>> results = new ArrayList<>();
    results.add(b.submit(new Req(0, 1)));
    for (int i = 1; i <= 6; i++) {
      results.add(b.submit(new Req(i, 2)));
    }
    gate.countDown();
    Future.all(results).await(10, TimeUnit.SECONDS);
    assertEquals(List.of(List.of(0), List.of(1, 2), List.of(3, 4), List.of(5, 6)), batches);
    for (int rows : batchRows) {
      assertTrue(rows <= 4, "batch of " + rows + " rows");
    }
  }

  @Test
  void waits_up_to_the_queue_delay_to_fill_a_batch_while_another_runs(Vertx vertx)
      throws Exception {
    CountDownLatch gate = new CountDownLatch(1);
    DynamicBatcher<Req, Integer> b = batcher(vertx, new BatchingConfig(8, 200_000, 1000), 2, gate);
    Future<Integer> blocker = b.submit(new Req(0, 1)); // idle: runs at once, holds one worker
    Future<Integer> first = b.submit(new Req(1, 1)); // a worker is free, but a batch runs:
    Future<Integer> second = b.submit(new Req(2, 1)); // these wait for the delay and merge
    assertEquals(10, first.await(10, TimeUnit.SECONDS));
    assertEquals(20, second.await(10, TimeUnit.SECONDS));
    assertEquals(List.of(List.of(1, 2)), batches);
    gate.countDown();
    assertEquals(0, blocker.await(10, TimeUnit.SECONDS));
  }

  @Test
  void an_idle_batcher_dispatches_without_waiting_for_the_queue_delay(Vertx vertx)
      throws Exception {
    CountDownLatch open = new CountDownLatch(0);
    // A delay far longer than the test timeouts: only eager dispatch can run these in time.
    DynamicBatcher<Req, Integer> b =
        batcher(vertx, new BatchingConfig(100, 600_000_000L, 1000), 1, open);
    assertEquals(30, b.submit(new Req(3, 1)).await(10, TimeUnit.SECONDS));
    assertEquals(40, b.submit(new Req(4, 2)).await(10, TimeUnit.SECONDS));
    assertEquals(List.of(List.of(3), List.of(4)), batches);
    assertEquals(0, b.queuedRequests());
  }

  @Test
  void requests_queued_behind_a_batch_merge_once_it_finishes(Vertx vertx) throws Exception {
    CountDownLatch gate = new CountDownLatch(1);
    DynamicBatcher<Req, Integer> b =
        batcher(vertx, new BatchingConfig(100, 200_000, 1000), 1, gate);
    Future<Integer> blocker = b.submit(new Req(0, 1));
    Future<Integer> first = b.submit(new Req(1, 1));
    Future<Integer> second = b.submit(new Req(2, 1));
    assertEquals(2, b.queuedRequests());
    gate.countDown();
    assertEquals(0, blocker.await(10, TimeUnit.SECONDS));
    assertEquals(10, first.await(10, TimeUnit.SECONDS));
    assertEquals(20, second.await(10, TimeUnit.SECONDS));
    assertEquals(List.of(List.of(0), List.of(1, 2)), batches);
  }

  @Test
  void a_full_queue_fails_fast_with_queue_full(Vertx vertx) throws Exception {
    CountDownLatch gate = new CountDownLatch(1);
    DynamicBatcher<Req, Integer> b = batcher(vertx, new BatchingConfig(100, 0, 4), 1, gate);
    Future<Integer> running = b.submit(new Req(0, 1));
    Future<Integer> queued = b.submit(new Req(1, 4));
    Future<Integer> refused = b.submit(new Req(2, 1));
    assertTrue(refused.failed());
    QueueFullException e = assertInstanceOf(QueueFullException.class, refused.cause());
    assertEquals(1, e.retryAfterSeconds());
    assertTrue(e.getMessage().contains("test:1"), e.getMessage());
    gate.countDown();
    assertEquals(0, running.await(10, TimeUnit.SECONDS));
    assertEquals(10, queued.await(10, TimeUnit.SECONDS));
  }

  @Test
  void admission_refuses_before_submit_once_the_queue_cannot_take_one_row(Vertx vertx)
      throws Exception {
    CountDownLatch gate = new CountDownLatch(1);
    DynamicBatcher<Req, Integer> b = batcher(vertx, new BatchingConfig(100, 0, 4), 1, gate);
    b.checkAdmission(); // empty: admitted
    Future<Integer> running = b.submit(new Req(0, 1));
    Future<Integer> queued = b.submit(new Req(1, 3));
    b.checkAdmission(); // 3 of 4 rows queued: one more row fits
    Future<Integer> last = b.submit(new Req(2, 1));
    QueueFullException e = assertThrows(QueueFullException.class, b::checkAdmission);
    assertEquals(1, e.retryAfterSeconds());
    assertTrue(e.getMessage().contains("test:1"), e.getMessage());
    gate.countDown();
    assertEquals(0, running.await(10, TimeUnit.SECONDS));
    assertEquals(10, queued.await(10, TimeUnit.SECONDS));
    assertEquals(20, last.await(10, TimeUnit.SECONDS));
    b.drain().await(10, TimeUnit.SECONDS);
    assertThrows(BatcherClosedException.class, b::checkAdmission);
  }

  @Test
  void expedite_dispatches_without_waiting_for_the_queue_delay(Vertx vertx) throws Exception {
    CountDownLatch gate = new CountDownLatch(1);
    // A delay far longer than the test timeouts: with a batch running and a worker free, only
    // expedite() can dispatch these.
    DynamicBatcher<Req, Integer> b =
        batcher(vertx, new BatchingConfig(100, 600_000_000L, 1000), 2, gate);
    Future<Integer> blocker = b.submit(new Req(0, 1));
    Future<Integer> queued = b.submit(new Req(5, 1));
    assertEquals(1, b.queuedRequests());
    b.expedite();
    assertEquals(50, queued.await(10, TimeUnit.SECONDS));
    assertEquals(60, b.submit(new Req(6, 1)).await(10, TimeUnit.SECONDS));
    assertEquals(0, b.queuedRequests());
    gate.countDown();
    assertEquals(0, blocker.await(10, TimeUnit.SECONDS));
  }

  @Test
  void the_default_queue_holds_eight_batches() {
    assertEquals(2048, BatchingConfig.DEFAULT.queueCapacityRows());
    assertEquals(8 * 512, BatchingConfig.defaultQueueCapacity(512));
    assertEquals(64, BatchingConfig.defaultQueueCapacity(1));
  }

  @Test
  void a_failing_request_fails_alone_not_its_batch_mates(Vertx vertx) throws Exception {
    CountDownLatch gate = new CountDownLatch(1);
    DynamicBatcher<Req, Integer> b = batcher(vertx, new BatchingConfig(100, 0, 1000), 1, gate);
    Future<Integer> first = b.submit(new Req(0, 1));
    Future<Integer> good = b.submit(new Req(3, 1));
    Future<Integer> bad = b.submit(new Req(-1, 1));
    Future<Integer> alsoGood = b.submit(new Req(4, 1));
    gate.countDown();
    assertEquals(0, first.await(10, TimeUnit.SECONDS));
    assertEquals(30, good.await(10, TimeUnit.SECONDS));
    assertEquals(40, alsoGood.await(10, TimeUnit.SECONDS));
    Exception e = assertThrows(Exception.class, () -> bad.await(10, TimeUnit.SECONDS));
    assertTrue(e.getMessage().contains("negative value -1"), e.getMessage());
  }

  @Test
  void drain_runs_what_is_queued_then_refuses_new_requests(Vertx vertx) throws Exception {
    CountDownLatch gate = new CountDownLatch(1);
    DynamicBatcher<Req, Integer> b =
        batcher(vertx, new BatchingConfig(100, 10_000_000, 1000), 1, gate);
    Future<Integer> blocker = b.submit(new Req(0, 1));
    Future<Integer> queued = b.submit(new Req(7, 1));
    assertEquals(1, b.queuedRequests());
    Future<Void> drained = b.drain();
    assertTrue(b.submit(new Req(8, 1)).cause() instanceof BatcherClosedException);
    gate.countDown();
    drained.await(10, TimeUnit.SECONDS);
    assertEquals(0, blocker.await(10, TimeUnit.SECONDS));
    assertEquals(70, queued.await(10, TimeUnit.SECONDS));
    assertEquals(0, b.queuedRequests());
  }

  @Test
  void rejects_invalid_configuration_with_exact_messages() {
    assertEquals(
        "max_batch_rows : 0 (expected: >= 1)",
        assertThrows(IllegalArgumentException.class, () -> new BatchingConfig(0, 1, 1))
            .getMessage());
    assertEquals(
        "max_queue_delay_us : -1 (expected: >= 0)",
        assertThrows(IllegalArgumentException.class, () -> new BatchingConfig(1, -1, 1))
            .getMessage());
    assertEquals(
        "queue_capacity_rows : 0 (expected: >= 1)",
        assertThrows(IllegalArgumentException.class, () -> new BatchingConfig(1, 1, 0))
            .getMessage());
  }
}
