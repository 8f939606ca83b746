package ai.distill.loadtest.scenario;

import ai.distill.loadtest.LoadTestException;
import ai.distill.loadtest.generator.RequestSender;
import ai.distill.loadtest.generator.RunResult;
import ai.distill.loadtest.oip.GatewayClient;
import ai.distill.loadtest.oip.GeneratedRows;
import ai.distill.loadtest.oip.InputRow;
import ai.distill.loadtest.oip.MetricsSnapshot;
import ai.distill.loadtest.oip.ModelMetadata;
import ai.distill.loadtest.oip.RequestBodies;
import ai.distill.loadtest.oip.RowsFile;
import ai.distill.loadtest.oip.ServerSplit;
import ai.distill.loadtest.report.Measurement;
import io.vertx.core.Vertx;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;

/**
 * A gateway and model ready to be loaded: the target was checked before any load (loopback URL,
 * reachable, model known, rows fit its inputs) and the request bodies are encoded. Measurements
 * scrape {@code /metrics} before and after for the server's queue/compute split. Owns its {@link
 * GatewayClient} (closed by {@link #close()}), not the {@link Vertx}.
 */
public final class GatewayTarget implements AutoCloseable {
  /**
   * What to load and how to build requests; {@code rows} null means rows generated from the CTR
   * world.
   */
  public record Spec(
      URI url,
      String model,
      Path rows,
      int generatedRows,
      long seed,
      int rowsPerRequest,
      boolean binary,
      int connections,
      int maxOutstanding,
      Duration timeout) {}

  private final GatewayClient client;
  private final Spec spec;
  private final ModelMetadata metadata;
  private final List<InputRow> rows;
  private final RequestBodies bodies;
  private final boolean ownsClient;

  private GatewayTarget(
      GatewayClient client,
      Spec spec,
      ModelMetadata metadata,
      List<InputRow> rows,
      RequestBodies bodies,
      boolean ownsClient) {
    this.client = client;
    this.spec = spec;
    this.metadata = metadata;
    this.rows = rows;
    this.bodies = bodies;
    this.ownsClient = ownsClient;
  }

  /**
   * Checks the target and prepares requests; every check happens here, before any load.
   *
   * @throws LoadTestException naming what to fix
   */
  public static GatewayTarget open(Vertx vertx, Spec spec) {
    GatewayClient.checkLoopback(spec.url());
    GatewayClient client =
        GatewayClient.create(
            vertx, spec.url(), spec.connections(), spec.maxOutstanding(), spec.timeout());
    try {
      return prepare(client, spec, true);
    } catch (RuntimeException e) {
      client.close();
      throw e;
    }
  }

  private static GatewayTarget prepare(GatewayClient client, Spec spec, boolean owns) {
    // an experiment's name: requests go through it, shaped by its teacher, one user per body
    String teacher = spec.model().contains(":") ? null : client.experimentTeacher(spec.model());
    ModelMetadata metadata = client.metadata(teacher != null ? teacher : spec.model());
    if (metadata.inputs().isEmpty()) {
      throw new LoadTestException(
          "model '" + spec.model() + "' reports no inputs in its metadata; cannot build requests");
    }
    List<InputRow> rows =
        spec.rows() != null
            ? RowsFile.read(spec.rows(), 100_000)
            : GeneratedRows.generate(
                metadata, Math.max(spec.generatedRows(), spec.rowsPerRequest()), spec.seed());
    RequestBodies bodies =
        teacher != null
            ? RequestBodies.encode(metadata, rows, spec.rowsPerRequest(), spec.binary(), 4096, true)
            : RequestBodies.encode(metadata, rows, spec.rowsPerRequest(), spec.binary(), 64);
    return new GatewayTarget(client, spec, metadata, rows, bodies, owns);
  }

  /** The same gateway and request settings for another model (sharing this target's client). */
  public GatewayTarget forModel(String model) {
    Spec other =
        new Spec(
            spec.url(),
            model,
            spec.rows(),
            spec.generatedRows(),
            spec.seed(),
            spec.rowsPerRequest(),
            spec.binary(),
            spec.connections(),
            spec.maxOutstanding(),
            spec.timeout());
    return prepare(client, other, false);
  }

  public Spec spec() {
    return spec;
  }

  public String model() {
    return spec.model();
  }

  /** The model's name without a {@code :version}. */
  public String modelName() {
    int colon = spec.model().indexOf(':');
    return colon < 0 ? spec.model() : spec.model().substring(0, colon);
  }

  public ModelMetadata metadata() {
    return metadata;
  }

  public List<InputRow> rows() {
    return rows;
  }

  public RequestBodies bodies() {
    return bodies;
  }

  public GatewayClient client() {
    return client;
  }

  public RequestSender sender(boolean keepBody) {
    return client.inferSender(spec.model(), bodies, keepBody);
  }

  /**
   * Runs {@code run} between two {@code /metrics} scrapes and describes it as a gateway
   * measurement.
   */
  public Measurement measure(String group, Supplier<RunResult> run) {
    MetricsSnapshot before = scrape();
    RunResult result = run.get();
    MetricsSnapshot after = scrape();
    return Measurement.of(
        group, "gateway", spec.model(), result, ServerSplit.between(before, after, modelName()));
  }

  private MetricsSnapshot scrape() {
    try {
      return client.metrics();
    } catch (LoadTestException e) {
      return MetricsSnapshot.EMPTY;
    }
  }

  @Override
  public void close() {
    if (ownsClient) {
      client.close();
    }
  }
}
