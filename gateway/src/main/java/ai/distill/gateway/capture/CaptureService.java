package ai.distill.gateway.capture;

import ai.distill.gateway.feedback.FeedbackService;
import ai.distill.gateway.feedback.Impression;
import ai.distill.gateway.tensor.InferRequest;
import ai.distill.gateway.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * Traffic capture as an observer of served requests: samples experiment traffic at the rate its
 * owner passes and plain model traffic at the per-model rates set here, keeps captured records
 * waiting for their click labels (it listens to {@link FeedbackService} joins), and owns the {@link
 * TrafficCapture} pipeline. Vert.x-agnostic and thread-safe; the observing methods never block or
 * throw, {@link #close} blocks.
 *
 * <pre>{@code
 * CaptureService capture = new CaptureService(store.root(), CaptureService.Options.DEFAULT, metrics, feedback);
 * capture.start();
 * capture.captureRate("ctr", 0.05);
 * capture.servedModel("ctr", 3, id, request, outputs);   // after each plain model response
 * capture.close();
 * }</pre>
 */
public final class CaptureService implements AutoCloseable {

  private static final System.Logger LOG = System.getLogger(CaptureService.class.getName());

  /**
   * Bounds and defaults.
   *
   * @param maxPending captured records waiting for their labels, at most
   * @param modelRates capture share of plain (non-experiment) model traffic, per model name
   * @param modelAttributionWindowSeconds how long plain model responses accept feedback (label
   *     capture)
   */
  public record Options(
      int maxPending,
      CaptureWriter.Limits limits,
      Map<String, Double> modelRates,
      long modelAttributionWindowSeconds) {
    public static final Options DEFAULT =
        new Options(100_000, CaptureWriter.Limits.DEFAULT, Map.of(), 600);

    public Options {
      modelRates = Map.copyOf(modelRates);
    }

    public Options withModelRates(Map<String, Double> rates) {
      return new Options(maxPending, limits, rates, modelAttributionWindowSeconds);
    }

    public Options withLimits(CaptureWriter.Limits newLimits) {
      return new Options(maxPending, newLimits, modelRates, modelAttributionWindowSeconds);
    }
  }

  private final TrafficCapture capture;
  private final FeedbackService feedback;
  private final Options options;
  private final Map<String, Double> modelRates = new ConcurrentHashMap<>();
  private volatile Predicate<String> experimentNames = name -> false;

  /**
   * @param storeRoot the store's root (captures live under {@code captures/}), or null to capture
   *     nothing
   */
  public CaptureService(
      Path storeRoot, Options options, CaptureMetrics metrics, FeedbackService feedback) {
    this.options = options;
    this.feedback = feedback;
    this.capture =
        storeRoot == null
            ? null
            : new TrafficCapture(
                storeRoot.resolve("captures"),
                options.limits(),
                options.maxPending(),
                metrics,
                System::currentTimeMillis);
    this.modelRates.putAll(options.modelRates());
    if (capture != null) {
      feedback.addJoinListener((impression, clicks) -> capture.label(impression.id(), clicks));
    }
  }

  /** Starts the writer thread. */
  public void start() {
    if (capture != null) {
      capture.start();
    }
  }

  /**
   * Names whose traffic an experiment captures at its definition's {@code capture_rate}: a plain
   * model rate for them is refused.
   */
  public void experimentNames(Predicate<String> names) {
    this.experimentNames = names;
  }

  /**
   * Sets the capture share of a model's plain traffic (0 stops capturing it). Throws {@link
   * IllegalArgumentException} for a name that is not a legal model name, an experiment's name or a
   * rate outside [0, 1].
   */
  public void captureRate(String model, double rate) {
    ai.distill.store.ModelStore.checkName(model);
    if (experimentNames.test(model)) {
      throw new IllegalArgumentException(
          "model: '"
              + model
              + "' is an experiment, whose traffic is captured "
              + "at its definition's capture_rate (expected: a plain model name; to capture an experiment, "
              + "create it with \"capture_rate\": <share 0..1>)");
    }
    if (!(rate >= 0 && rate <= 1)) {
      throw new IllegalArgumentException("rate: " + rate + " (expected: 0 <= rate <= 1)");
    }
    if (rate == 0) {
      modelRates.remove(model);
    } else {
      modelRates.put(model, rate);
    }
  }

  /** Capture shares of plain model traffic, by model. */
  public Map<String, Double> captureRates() {
    return Map.copyOf(modelRates);
  }

  /**
   * Sends captured rows to {@code sink} (e.g. a Kafka topic shared by every instance) instead of
   * this store's segment files. No effect without a store.
   */
  public void sendTo(RowSink sink) {
    if (capture != null) {
      capture.writer().sendTo(sink);
    }
  }

  /** The capture pipeline, or null without a store. */
  public TrafficCapture capture() {
    return capture;
  }

  /**
   * Samples a request an experiment served at {@code rate} and captures it into {@code stream},
   * waiting for its label until {@code labelDeadlineMillis}. Returns whether it was captured. Never
   * blocks.
   */
  public boolean capture(
      String stream,
      String model,
      long version,
      String id,
      InferRequest request,
      List<Tensor> outputs,
      double rate,
      long labelDeadlineMillis) {
    return capture != null
        && TrafficCapture.sample(rate)
        && capture.capture(
            new CaptureRecord(
                stream,
                System.currentTimeMillis(),
                model,
                model,
                version,
                id,
                copies(request.inputs()),
                copies(outputs),
                null,
                null),
            labelDeadlineMillis);
  }

  /** Attaches the teacher's shadow outputs to a captured request still waiting for its label. */
  public void teacherOutputs(String id, List<Tensor> outputs) {
    if (capture != null) {
      capture.teacherOutputs(id, copies(outputs));
    }
  }

  /**
   * Off the response path of a plain model request: captures it at the model's configured rate and,
   * when captured, remembers it so click feedback labels the rows. Never throws.
   */
  public void servedModel(
      String model, long version, String id, InferRequest request, List<Tensor> outputs) {
    Double rate = modelRates.get(model);
    if (capture == null || rate == null || id == null || !TrafficCapture.sample(rate)) {
      return;
    }
    try {
      long deadline = System.currentTimeMillis() + options.modelAttributionWindowSeconds() * 1000;
      int rows = (int) request.rows();
      feedback.remember(
          new Impression(
              id, null, -1, model, FeedbackService.userId(request.parameters()), rows, deadline));
      capture.capture(
          new CaptureRecord(
              model,
              System.currentTimeMillis(),
              model,
              model,
              version,
              id,
              copies(request.inputs()),
              copies(outputs),
              null,
              null),
          deadline);
    } catch (RuntimeException ex) {
      LOG.log(System.Logger.Level.DEBUG, "capture skipped: {0}", ex.toString());
    }
  }

  /** Writes what is pending (unlabelled) and stops the writer. Blocking. */
  @Override
  public void close() {
    if (capture != null) {
      capture.close();
    }
  }

  private static List<CapturedTensor> copies(List<Tensor> tensors) {
    List<CapturedTensor> out = new ArrayList<>(tensors.size());
    for (Tensor t : tensors) {
      out.add(CapturedTensor.copyOf(t));
    }
    return out;
  }
}
