package ai.distill.gateway.jobs;

import ai.distill.optimizer.onnx.TinyModels;
import ai.distill.store.ModelStore;
import ai.distill.store.PublishRequest;
import ai.distill.store.Role;
import ai.distill.store.rows.RowsWriter;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** A store with tiny models and rows, job bodies, and runners a test can hold still. */
final class JobFixtures {

  private JobFixtures() {}

  /** A store with teacher {@code mlp} (input x FLOAT [-1, 4]) and student {@code mlp-small}. */
  static ModelStore store(Path root) {
    ModelStore store = ModelStore.open(root);
    store.publish(
        PublishRequest.fromBytes(
            "mlp", TinyModels.mlp(4, new int[] {8}, 1).toBytes(), Role.TEACHER));
    store.publish(
        PublishRequest.fromBytes(
            "mlp-small", TinyModels.mlp(4, new int[] {4}, 2).toBytes(), Role.STUDENT));
    return store;
  }

  /** Writes {@code n} labelled rows for the mlp models to {@code file}. */
  static Path rows(Path file, int n) throws Exception {
    Files.createDirectories(file.getParent());
    Random r = new Random(7);
    try (RowsWriter w = RowsWriter.create(file)) {
      for (int i = 0; i < n; i++) {
        float[] x = new float[4];
        for (int j = 0; j < 4; j++) {
          x[j] = (float) r.nextGaussian();
        }
        w.write(Map.of("x", x), x[0] + 0.5 * x[1] + 0.3 * r.nextGaussian() > 0 ? 1 : 0, null);
      }
    }
    return file;
  }

  /**
   * A quantize request for {@code mlp} on the store's {@code rows/mlp.jsonl}, gated loosely, no
   * speed check.
   */
  static JsonObject quantizeBody(String name) {
    return new JsonObject()
        .put("source", "mlp")
        .put("action", "quantize")
        .put("name", name)
        .put("rows", "rows/mlp.jsonl")
        .put(
            "options",
            new JsonObject()
                .put("method", "minmax")
                .put("speed-check", false)
                .put("max-auc-drop", 0.05)
                .put("max-mean-shift", 0.2));
  }

  /** Never finishes a job until cancelled or closed; counts starts. */
  static final class HeldRunner implements JobRunner {
    final AtomicInteger starts = new AtomicInteger();
    private final java.util.List<Listener> running =
        new java.util.concurrent.CopyOnWriteArrayList<>();

    @Override
    public Execution start(Task task, Listener listener) {
      starts.incrementAndGet();
      listener.progress("read", 0.1);
      running.add(listener);
      return () -> {
        if (running.remove(listener)) {
          listener.cancelled("read");
        }
      };
    }

    @Override
    public void close() {
      for (Listener l : running) {
        if (running.remove(l)) {
          l.cancelled("read");
        }
      }
    }
  }

  /**
   * Runs jobs on {@code delegate} but holds the job's thread at its first progress report until
   * {@link #release} is counted down, so a test can act while the job is surely running.
   */
  static final class PausingRunner implements JobRunner {
    final JobRunner delegate;
    final CountDownLatch paused = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);

    PausingRunner(JobRunner delegate) {
      this.delegate = delegate;
    }

    @Override
    public Execution start(Task task, Listener listener) {
      return delegate.start(
          task,
          new Listener() {
            @Override
            public void progress(String stage, double fraction) {
              listener.progress(stage, fraction);
              if (paused.getCount() > 0) {
                paused.countDown();
                try {
                  release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              }
            }

            @Override
            public void succeeded(JsonObject summary) {
              listener.succeeded(summary);
            }

            @Override
            public void failed(String error) {
              listener.failed(error);
            }

            @Override
            public void cancelled(String stage) {
              listener.cancelled(stage);
            }
          });
    }

    @Override
    public void close() {
      release.countDown();
      delegate.close();
    }
  }
}
