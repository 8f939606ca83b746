package ai.distill.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StoreWatcherTest {

  private static final Duration POLL = Duration.ofMillis(20);

  @TempDir Path root;

  @Test
  void reports_added_and_removed_versions_but_not_existing_ones() throws Exception {
    ModelStore store = ModelStore.open(root);
    store.publish(PublishRequest.fromBytes("ctr", TestModels.onnx("a"), Role.TEACHER));
    BlockingQueue<StoreEvent> events = new LinkedBlockingQueue<>();
    try (StoreWatcher w = store.watch(events::add, POLL)) {
      store.publish(PublishRequest.fromBytes("ctr", TestModels.onnx("b"), Role.TEACHER));
      assertEquals(
          new StoreEvent(StoreEvent.Kind.ADDED, "ctr", 2), events.poll(10, TimeUnit.SECONDS));

      store.remove("ctr", 1);
      assertEquals(
          new StoreEvent(StoreEvent.Kind.REMOVED, "ctr", 1), events.poll(10, TimeUnit.SECONDS));

      w.pollNow();
      assertNull(events.poll(), "no duplicate or spurious events: " + events);
    }
  }

  @Test
  @SuppressWarnings("try")
  void emit_existing_reports_what_is_already_there() throws Exception {
    ModelStore store = ModelStore.open(root);
    store.publish(PublishRequest.fromBytes("a", TestModels.onnx("a"), Role.TEACHER));
    store.publish(PublishRequest.fromBytes("b", TestModels.onnx("b"), Role.STUDENT));
    BlockingQueue<StoreEvent> events = new LinkedBlockingQueue<>();
    try (StoreWatcher w = store.watch(events::add, POLL, true)) {
      List<StoreEvent> got = new ArrayList<>();
      got.add(events.poll(10, TimeUnit.SECONDS));
      got.add(events.poll(10, TimeUnit.SECONDS));
      assertEquals(
          List.of(
              new StoreEvent(StoreEvent.Kind.ADDED, "a", 1),
              new StoreEvent(StoreEvent.Kind.ADDED, "b", 1)),
          got);
    }
  }

  @Test
  void a_reused_version_number_is_reported_as_removed_then_added() {
    ModelStore store = ModelStore.open(root);
    store.publish(PublishRequest.fromBytes("ctr", TestModels.onnx("a"), Role.TEACHER));
    List<StoreEvent> events = new ArrayList<>();
    // a long interval: only pollNow scans (the thread's first scan runs at once; whether it sees
    // the change
    // or pollNow does, the events are the same)
    try (StoreWatcher manual = store.watch(events::add, Duration.ofHours(1))) {
      store.removeModel("ctr");
      store.publish(PublishRequest.fromBytes("ctr", TestModels.onnx("z"), Role.TEACHER));
      manual.pollNow();
    }
    assertEquals(
        List.of(
            new StoreEvent(StoreEvent.Kind.REMOVED, "ctr", 1),
            new StoreEvent(StoreEvent.Kind.ADDED, "ctr", 1)),
        events);
  }

  @Test
  @SuppressWarnings("try")
  void a_failing_listener_does_not_stop_the_watcher() throws Exception {
    ModelStore store = ModelStore.open(root);
    BlockingQueue<StoreEvent> events = new LinkedBlockingQueue<>();
    try (StoreWatcher w =
        store.watch(
            e -> {
              events.add(e);
              throw new IllegalStateException("listener bug");
            },
            POLL)) {
      store.publish(PublishRequest.fromBytes("ctr", TestModels.onnx("a"), Role.TEACHER));
      assertEquals(1, events.poll(10, TimeUnit.SECONDS).version());
      store.publish(PublishRequest.fromBytes("ctr", TestModels.onnx("b"), Role.TEACHER));
      assertEquals(2, events.poll(10, TimeUnit.SECONDS).version());
    }
  }

  @Test
  void no_events_after_close() throws Exception {
    ModelStore store = ModelStore.open(root);
    BlockingQueue<StoreEvent> events = new LinkedBlockingQueue<>();
    StoreWatcher w = store.watch(events::add, POLL);
    w.close();
    store.publish(PublishRequest.fromBytes("ctr", TestModels.onnx("a"), Role.TEACHER));
    w.pollNow();
    assertNull(events.poll(200, TimeUnit.MILLISECONDS));
  }

  @Test
  void rejects_a_non_positive_interval() {
    ModelStore store = ModelStore.open(root);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> store.watch(x -> {}, Duration.ZERO));
    assertEquals("pollInterval : PT0S (expected: > 0)", e.getMessage());
  }

  @Test
  void diff_orders_removed_before_added() {
    List<StoreEvent> d =
        StoreWatcher.diff(
            java.util.Map.of("a:1", "x", "a:2", "y"), java.util.Map.of("a:2", "z", "b:1", "w"));
    assertEquals(StoreEvent.Kind.REMOVED, d.get(0).kind());
    assertEquals(StoreEvent.Kind.REMOVED, d.get(1).kind());
    assertTrue(d.subList(2, 4).stream().allMatch(e -> e.kind() == StoreEvent.Kind.ADDED));
    assertEquals(4, d.size());
  }
}
