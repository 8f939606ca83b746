package ai.distill.gateway.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrafficCaptureTest {

  @TempDir Path dir;

  private final AtomicLong now = new AtomicLong(1_000);

  static CaptureRecord record(String stream, String id, int rows) {
    float[] dense = new float[rows * 2];
    long[] sparse = new long[rows * 3];
    float[] prob = new float[rows];
    for (int r = 0; r < rows; r++) {
      dense[2 * r] = r;
      sparse[3 * r] = r + 10;
      prob[r] = 0.25f;
    }
    return new CaptureRecord(
        stream,
        1234,
        "ctr-int8",
        "ctr-int8",
        2L,
        id,
        List.of(
            CapturedTensor.ofFloats("dense", rows, dense),
            CapturedTensor.ofLongs("sparse", rows, sparse)),
        List.of(CapturedTensor.ofFloats("prob", rows, prob)),
        null,
        null);
  }

  static List<JsonObject> readRows(Path streamDir) throws Exception {
    List<JsonObject> rows = new ArrayList<>();
    for (Path f : CaptureWriter.segmentFiles(streamDir)) {
      for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
        try {
          rows.add(new JsonObject(line));
        } catch (RuntimeException torn) {
          // a torn last line is skipped, never fatal
        }
      }
    }
    return rows;
  }

  @Test
  void writes_rows_in_the_rows_format_with_labels_once_feedback_arrives() throws Exception {
    TrafficCapture capture =
        new TrafficCapture(dir, CaptureWriter.Limits.DEFAULT, 100, null, now::get);
    capture.start();
    assertTrue(capture.capture(record("ctr-ab", "r1", 2), now.get() + 10_000));
    assertTrue(capture.capture(record("ctr-ab", "r2", 1), now.get() + 10_000));
    assertEquals(2, capture.pending());
    assertTrue(capture.label("r1", new int[] {0, 1}));
    capture.close();
    List<JsonObject> rows = readRows(dir.resolve("ctr-ab"));
    assertEquals(3, rows.size());
    JsonObject first = rows.get(0);
    assertEquals("r1", first.getString("id"));
    assertEquals(0, first.getInteger("label"));
    assertEquals(1, rows.get(1).getInteger("label"));
    assertEquals(2, first.getJsonObject("inputs").getJsonArray("dense").size());
    assertEquals(10L, first.getJsonObject("inputs").getJsonArray("sparse").getLong(0));
    assertEquals(0.25, first.getJsonObject("outputs").getJsonArray("prob").getDouble(0), 1e-9);
    assertEquals("2", first.getString("version"));
    assertFalse(rows.get(2).containsKey("label"), "closing writes pending rows unlabelled");
  }

  @Test
  void a_full_queue_drops_records_without_failing_the_caller() {
    CaptureWriter writer =
        new CaptureWriter(dir, new CaptureWriter.Limits(2, 1 << 20, 1 << 20), null, null);
    int accepted = 0;
    for (int i = 0; i < 5; i++) {
      if (writer.offer(record("m", "r" + i, 1))) {
        accepted++;
      }
    }
    assertEquals(2, accepted);
    assertEquals(3, writer.dropped());
    writer.close();
  }

  @Test
  void a_failing_disk_drops_records_and_counts_them() throws Exception {
    Path notADir = dir.resolve("file");
    Files.writeString(notADir, "x");
    CaptureWriter writer = new CaptureWriter(notADir, CaptureWriter.Limits.DEFAULT, null, null);
    writer.start();
    for (int i = 0; i < 3; i++) {
      assertTrue(writer.offer(record("m", "r" + i, 1)), "the request path never sees the disk");
    }
    writer.close();
    assertEquals(3, writer.dropped());
    assertEquals(0, writer.writtenRows());
  }

  @Test
  void segments_rotate_and_total_size_stays_bounded() throws Exception {
    long segment = 4_000;
    long bound = 12_000;
    CaptureWriter writer =
        new CaptureWriter(dir, new CaptureWriter.Limits(10_000, segment, bound), null, null);
    writer.start();
    for (int i = 0; i < 300; i++) {
      writer.offer(record("m", "r" + i, 1));
    }
    writer.close();
    List<Path> files = CaptureWriter.segmentFiles(dir.resolve("m"));
    long total = 0;
    for (Path f : files) {
      total += Files.size(f);
    }
    assertTrue(files.size() > 1, "rotated");
    assertTrue(total <= bound, "total " + total + " > " + bound);
    assertEquals(300, writer.writtenRows());
  }

  @Test
  void a_new_run_starts_a_new_segment_after_a_torn_line() throws Exception {
    Path stream = dir.resolve("m");
    Files.createDirectories(stream);
    Files.writeString(
        stream.resolve("segment-000000000001.jsonl"),
        "{\"inputs\": {\"x\": [1]}}\n{\"inputs\": {\"x");
    CaptureWriter writer = new CaptureWriter(dir, CaptureWriter.Limits.DEFAULT, null, null);
    writer.start();
    writer.offer(record("m", "r", 1));
    writer.close();
    assertEquals(2, CaptureWriter.segmentFiles(stream).size());
    assertEquals(2, readRows(stream).size());
  }

  @Test
  void expired_pending_records_are_written_unlabelled() throws Exception {
    TrafficCapture capture =
        new TrafficCapture(dir, CaptureWriter.Limits.DEFAULT, 100, null, now::get);
    capture.capture(record("e", "r1", 1), now.get() + 10);
    now.addAndGet(11);
    capture.flushExpired();
    assertEquals(0, capture.pending());
    assertFalse(capture.label("r1", new int[] {1}));
    capture.start();
    capture.close();
    assertEquals(1, readRows(dir.resolve("e")).size());
  }

  @Test
  void the_store_rows_reader_reads_capture_segments_and_skips_a_torn_tail() throws Exception {
    CaptureWriter writer =
        new CaptureWriter(dir, new CaptureWriter.Limits(100, 2_000, 1 << 20), null, null);
    writer.start();
    for (int i = 0; i < 20; i++) {
      writer.offer(record("m", "r" + i, 2).withLabels(new int[] {i % 2, 1}));
    }
    writer.close();
    List<Path> segments = CaptureWriter.segmentFiles(dir.resolve("m"));
    Path last = segments.get(segments.size() - 1);
    Files.writeString(last, "{\"inputs\": {\"dense\": [1", java.nio.file.StandardOpenOption.APPEND);
    try (ai.distill.store.rows.RowsReader rows =
        ai.distill.store.rows.RowsReader.open(dir.resolve("m"))) {
      int n = 0;
      while (rows.hasNext()) {
        ai.distill.store.rows.Row row = rows.next();
        assertEquals(n % 2 == 0 ? (n / 2) % 2 : 1, row.label());
        assertEquals(2, row.input("dense").toFloats().length);
        n++;
      }
      assertEquals(40, n);
      assertEquals(1, rows.skippedTornLines());
    }
  }

  @Test
  void records_waiting_for_labels_are_bounded_in_bytes() throws Exception {
    long one = record("e", "r0", 10).bytes();
    TrafficCapture capture =
        new TrafficCapture(dir, CaptureWriter.Limits.DEFAULT, 1000, 3 * one, null, now::get);
    for (int i = 0; i < 10; i++) {
      assertTrue(capture.capture(record("e", "r" + i, 10), now.get() + 60_000));
    }
    assertEquals(3, capture.pending());
    assertTrue(capture.pendingBytes() <= 3 * one);
    assertFalse(capture.label("r0", new int[10]), "the oldest went out unlabelled");
    assertTrue(capture.label("r9", new int[10]));
    capture.start();
    capture.close();
    assertEquals(100, readRows(dir.resolve("e")).size());
    assertEquals(0, capture.pendingBytes());
  }

  @Test
  void a_row_with_a_non_finite_input_is_dropped_and_the_others_stay_readable() throws Exception {
    CaptureWriter writer = new CaptureWriter(dir, CaptureWriter.Limits.DEFAULT, null, null);
    writer.start();
    float[] dense = {1, Float.NaN, 2, 3};
    writer.offer(
        new CaptureRecord(
            "m",
            1234,
            "ctr",
            "ctr",
            1L,
            "r",
            List.of(CapturedTensor.ofFloats("dense", 2, dense)),
            List.of(CapturedTensor.ofFloats("prob", 2, new float[] {0.5f, Float.NaN})),
            null,
            null));
    writer.close();
    assertEquals(1, writer.writtenRows());
    assertEquals(1, writer.dropped());
    try (ai.distill.store.rows.RowsReader rows =
        ai.distill.store.rows.RowsReader.open(dir.resolve("m"))) {
      ai.distill.store.rows.Row row = rows.next();
      assertEquals(2, row.input("dense").toFloats().length);
      assertEquals(1, row.extra().get("row").asInt());
      assertTrue(
          row.extra().get("outputs").get("prob").get(0).isNull(),
          "a non-finite output is written as null");
      assertFalse(rows.hasNext());
    }
  }

  @Test
  void expired_pending_rows_are_written_on_time_while_traffic_continues() throws Exception {
    TrafficCapture capture =
        new TrafficCapture(dir, CaptureWriter.Limits.DEFAULT, 1_000, null, now::get);
    capture.start();
    for (int i = 0; i < 5; i++) {
      assertTrue(capture.capture(record("ctr-ab", "waiting-" + i, 1), now.get() + 60_000));
    }
    now.addAndGet(60_001); // their attribution window closes without feedback
    AtomicBoolean stop = new AtomicBoolean();
    Thread traffic =
        new Thread(
            () -> {
              // steady traffic: the writer's queue never idles (rows written at once)
              for (int i = 0; !stop.get(); i++) {
                capture.capture(record("other", null, 1), 0);
                if (i % 10 == 0) {
                  try {
                    Thread.sleep(1);
                  } catch (InterruptedException e) {
                    return;
                  }
                }
              }
            });
    traffic.start();
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (capture.pending() > 0 && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertEquals(0, capture.pending(), "expired rows left the pending set under load");
      assertTrue(traffic.isAlive(), "traffic was still flowing");
      List<JsonObject> rows = List.of();
      while (rows.size() < 5 && System.nanoTime() < deadline) {
        Thread.sleep(20);
        rows = readRows(dir.resolve("ctr-ab")); // flushed within a tick, still under load
      }
      assertEquals(5, rows.size());
      assertFalse(rows.get(0).containsKey("label"), "written without a label");
    } finally {
      stop.set(true);
      traffic.join();
      capture.close();
    }
  }

  @Test
  void a_negative_fsync_interval_is_refused() {
    IllegalArgumentException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            IllegalArgumentException.class, () -> new CaptureWriter.Limits(10, 100, 100, -1));
    assertTrue(e.getMessage().contains("fsyncIntervalMillis"));
  }
}
