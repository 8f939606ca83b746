package ai.distill.optimizer.table;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import ai.onnxruntime.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs an ONNX model over a {@link RowTable} in batches with ONNX Runtime: stacks each batch's
 * columns into direct, native-order input tensors and hands back outputs as floats. Every failure
 * (load, run, a table that does not fit the model) is a {@link ScoringException} whose message
 * starts with the model's name. Owns one {@link OrtSession} (closed by {@link #close()}); every
 * input tensor and result is closed after each batch. Not thread-safe.
 *
 * <pre>{@code
 * try (TableScorer s = TableScorer.open(modelBytes, "teacher ctr:1", TableScorer.Options.defaults())) {
 *     float[] p = s.score(table, "prob");
 * }
 * }</pre>
 */
public final class TableScorer implements AutoCloseable {

  /**
   * Session and batching options.
   *
   * @param intraOpThreads ORT intra-op threads (0: ORT's default)
   * @param optimization graph optimization level
   * @param batchSize rows per {@code run} (> 0)
   * @param optimizedModelPath where ORT writes the optimized graph, or null
   */
  public record Options(
      int intraOpThreads, OptLevel optimization, int batchSize, Path optimizedModelPath) {

    public Options {
      if (intraOpThreads < 0) {
        throw new IllegalArgumentException(
            "intraOpThreads : " + intraOpThreads + " (expected: >= 0)");
      }
      if (batchSize <= 0) {
        throw new IllegalArgumentException("batchSize : " + batchSize + " (expected: > 0)");
      }
      if (optimization == null) {
        throw new IllegalArgumentException("optimization : null (expected: an OptLevel)");
      }
    }

    /** One thread, all optimizations, batches of 256. */
    public static Options defaults() {
      return new Options(1, OptLevel.ALL_OPT, 256, null);
    }

    public Options withThreads(int threads) {
      return new Options(threads, optimization, batchSize, optimizedModelPath);
    }

    public Options withOptimization(OptLevel level) {
      return new Options(intraOpThreads, level, batchSize, optimizedModelPath);
    }

    public Options withBatchSize(int rows) {
      return new Options(intraOpThreads, optimization, rows, optimizedModelPath);
    }

    public Options withOptimizedModelPath(Path path) {
      return new Options(intraOpThreads, optimization, batchSize, path);
    }
  }

  /**
   * Receives the outputs of one batch, each flattened row-major ({@code rowCount × valuesPerRow}).
   */
  @FunctionalInterface
  public interface BatchConsumer {
    void accept(int firstRow, int rowCount, Map<String, float[]> outputs);
  }

  private record Input(String name, OnnxJavaType type) {}

  private final OrtEnvironment env;
  private final OrtSession.SessionOptions sessionOptions;
  private final OrtSession session;
  private final Options options;
  private final String what;
  private final List<Input> inputs = new ArrayList<>();
  private final List<String> outputNames;

  private TableScorer(byte[] model, String what, Options options) {
    this.env = OrtEnvironment.getEnvironment();
    this.options = options;
    this.what = what;
    OrtSession.SessionOptions so = new OrtSession.SessionOptions();
    OrtSession s = null;
    try {
      if (options.intraOpThreads() > 0) {
        so.setIntraOpNumThreads(options.intraOpThreads());
      }
      so.setInterOpNumThreads(1);
      so.setOptimizationLevel(options.optimization());
      if (options.optimizedModelPath() != null) {
        so.setOptimizedModelFilePath(options.optimizedModelPath().toString());
        // ORT warns that an ALL_OPT graph is hardware-specific; we only read it to count kernels
        so.setSessionLogLevel(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR);
      }
      s = env.createSession(model, so);
      for (Map.Entry<String, NodeInfo> e : s.getInputInfo().entrySet()) {
        if (!(e.getValue().getInfo() instanceof TensorInfo t)) {
          throw new ScoringException(
              what
                  + " input '"
                  + e.getKey()
                  + "' is not a tensor ("
                  + e.getValue().getInfo()
                  + "); only tensor inputs are supported");
        }
        inputs.add(new Input(e.getKey(), t.type));
      }
      this.outputNames = List.copyOf(s.getOutputInfo().keySet());
    } catch (OrtException | RuntimeException e) {
      closeQuietly(s);
      so.close();
      if (e instanceof OrtException oe) {
        throw new ScoringException(
            what + " cannot be loaded by ONNX Runtime: " + oe.getMessage(), oe);
      }
      throw (RuntimeException) e;
    }
    this.session = s;
    this.sessionOptions = so;
  }

  /** Opens a scorer named "the model" in messages. */
  public static TableScorer open(byte[] model, Options options) {
    return new TableScorer(model, "the model", options);
  }

  /**
   * @param what how messages name the model, e.g. "teacher ctr:1"
   */
  public static TableScorer open(byte[] model, String what, Options options) {
    return new TableScorer(model, what, options);
  }

  /** Whether rows can carry values of {@code type}. */
  static boolean canFeed(OnnxJavaType type) {
    return switch (type) {
      case FLOAT, DOUBLE, INT64, INT32, INT16, INT8, UINT8, BOOL -> true;
      default -> false;
    };
  }

  public List<String> outputNames() {
    return outputNames;
  }

  public List<String> inputNames() {
    return inputs.stream().map(Input::name).toList();
  }

  /** One value per row of the model's first output. */
  public float[] score(RowTable table) {
    return score(table, outputNames.get(0));
  }

  /** One value per row of {@code output} (which must have exactly one value per row). */
  public float[] score(RowTable table, String output) {
    checkOutput(output);
    float[] out = new float[table.rows()];
    forEachBatch(
        table,
        Set.of(output),
        (first, n, outputs) -> {
          float[] v = outputs.get(output);
          if (v.length != n) {
            throw new ScoringException(
                what
                    + " output '"
                    + output
                    + "' has "
                    + (v.length / Math.max(1, n))
                    + " values per row (expected: 1; use scoreAll)");
          }
          System.arraycopy(v, 0, out, first, n);
        });
    return out;
  }

  /** All outputs, per output name then per row. */
  public Map<String, float[][]> scoreAll(RowTable table) {
    Map<String, float[][]> result = new LinkedHashMap<>();
    for (String name : outputNames) {
      result.put(name, new float[table.rows()][]);
    }
    forEachBatch(
        table,
        Set.copyOf(outputNames),
        (first, n, outputs) -> {
          for (String name : outputNames) {
            float[] v = outputs.get(name);
            int per = n == 0 ? 0 : v.length / n;
            for (int r = 0; r < n; r++) {
              result.get(name)[first + r] = Arrays.copyOfRange(v, r * per, (r + 1) * per);
            }
          }
        });
    return result;
  }

  /**
   * Streams the table through the model one batch at a time; only the requested outputs are
   * computed.
   */
  public void forEachBatch(RowTable table, Set<String> outputs, BatchConsumer consumer) {
    outputs.forEach(this::checkOutput);
    for (int first = 0; first < table.rows(); first += options.batchSize()) {
      int n = Math.min(options.batchSize(), table.rows() - first);
      consumer.accept(first, n, runBatch(table, first, n, outputs));
    }
  }

  /** Stacks rows {@code [from, from + n)} into input tensors; the caller closes them. */
  public Map<String, OnnxTensor> tensors(RowTable table, int from, int n) {
    Map<String, OnnxTensor> tensors = new HashMap<>();
    try {
      for (Input in : inputs) {
        tensors.put(in.name(), tensor(in, table, from, n));
      }
      return tensors;
    } catch (OrtException e) {
      tensors.values().forEach(OnnxTensor::close);
      throw new ScoringException(what + ": could not create input tensors: " + e.getMessage(), e);
    } catch (RuntimeException e) {
      tensors.values().forEach(OnnxTensor::close);
      throw e;
    }
  }

  /** Runs prepared tensors (not closed here) and discards the result; for benchmarks. */
  public void runOnly(Map<String, OnnxTensor> tensors) {
    try (OrtSession.Result r = session.run(tensors)) {
      if (r.size() == 0) {
        throw new ScoringException(what + " returned no outputs");
      }
    } catch (OrtException e) {
      throw new ScoringException(what + " failed to run: " + e.getMessage(), e);
    }
  }

  private void checkOutput(String output) {
    if (!outputNames.contains(output)) {
      throw new ScoringException(
          what + " has no output '" + output + "' (expected one of " + outputNames + ")");
    }
  }

  private Map<String, float[]> runBatch(RowTable table, int from, int n, Set<String> outputs) {
    Map<String, OnnxTensor> tensors = tensors(table, from, n);
    try (OrtSession.Result result = session.run(tensors, outputs)) {
      Map<String, float[]> out = new HashMap<>();
      for (Map.Entry<String, OnnxValue> e : result) {
        if (e.getValue() instanceof OnnxTensor t) {
          out.put(e.getKey(), toFloats(t));
        }
      }
      return out;
    } catch (OrtException e) {
      throw new ScoringException(
          what + " failed on the batch starting at row " + table.line(from) + ": " + e.getMessage(),
          e);
    } finally {
      tensors.values().forEach(OnnxTensor::close);
    }
  }

  private OnnxTensor tensor(Input in, RowTable table, int from, int n) throws OrtException {
    int k = table.indexOf(in.name());
    if (k < 0) {
      throw new ScoringException(
          what
              + " input '"
              + in.name()
              + "' is not among the rows' inputs "
              + table.columns().stream().map(RowTable.Column::name).toList());
    }
    RowTable.Column c = table.columns().get(k);
    if (!canFeed(in.type())) {
      throw new ScoringException(
          what + " input '" + in.name() + "' has type " + in.type() + ", which rows cannot carry");
    }
    int w = c.width();
    int[] dims = c.dims();
    long[] shape = new long[dims.length + 1];
    shape[0] = n;
    for (int i = 0; i < dims.length; i++) {
      shape[i + 1] = dims[i];
    }
    Object values = table.values(k);
    int off = from * w;
    int count = n * w;
    ByteBuffer buf =
        ByteBuffer.allocateDirect(Math.toIntExact((long) count * elementBytes(in.type())))
            .order(ByteOrder.nativeOrder());
    if (in.type() == OnnxJavaType.FLOAT && values instanceof float[] f) {
      buf.asFloatBuffer().put(f, off, count);
    } else if (in.type() == OnnxJavaType.INT64 && values instanceof long[] l) {
      buf.asLongBuffer().put(l, off, count);
    } else {
      for (int i = off; i < off + count; i++) {
        double d =
            values instanceof float[] f
                ? f[i]
                : values instanceof long[] l ? l[i] : ((double[]) values)[i];
        switch (in.type()) {
          case FLOAT -> buf.putFloat((float) d);
          case DOUBLE -> buf.putDouble(d);
          case INT64 -> buf.putLong((long) d);
          case INT32 -> buf.putInt((int) d);
          case INT16 -> buf.putShort((short) d);
          case INT8, UINT8 -> buf.put((byte) (int) d);
          default -> buf.put((byte) (d != 0 ? 1 : 0));
        }
      }
      buf.rewind();
    }
    return switch (in.type()) {
      case FLOAT -> OnnxTensor.createTensor(env, buf.asFloatBuffer(), shape);
      case DOUBLE -> OnnxTensor.createTensor(env, buf.asDoubleBuffer(), shape);
      case INT64 -> OnnxTensor.createTensor(env, buf.asLongBuffer(), shape);
      case INT32 -> OnnxTensor.createTensor(env, buf.asIntBuffer(), shape);
      case INT16 -> OnnxTensor.createTensor(env, buf.asShortBuffer(), shape);
      case INT8 -> OnnxTensor.createTensor(env, buf, shape);
      default -> OnnxTensor.createTensor(env, buf, shape, in.type());
    };
  }

  private static int elementBytes(OnnxJavaType type) {
    return switch (type) {
      case DOUBLE, INT64 -> 8;
      case FLOAT, INT32 -> 4;
      case INT16 -> 2;
      default -> 1;
    };
  }

  static float[] toFloats(OnnxTensor t) {
    TensorInfo info = t.getInfo();
    int n = Math.toIntExact(info.getNumElements());
    float[] out = new float[n];
    switch (info.type) {
      case FLOAT -> t.getFloatBuffer().get(out);
      case DOUBLE -> {
        var b = t.getDoubleBuffer();
        for (int i = 0; i < n; i++) out[i] = (float) b.get(i);
      }
      case INT64 -> {
        var b = t.getLongBuffer();
        for (int i = 0; i < n; i++) out[i] = b.get(i);
      }
      case INT32 -> {
        var b = t.getIntBuffer();
        for (int i = 0; i < n; i++) out[i] = b.get(i);
      }
      case UINT8, BOOL -> {
        var b = t.getByteBuffer();
        for (int i = 0; i < n; i++) out[i] = Byte.toUnsignedInt(b.get(i));
      }
      case INT8 -> {
        var b = t.getByteBuffer();
        for (int i = 0; i < n; i++) out[i] = b.get(i);
      }
      default ->
          throw new ScoringException("output type " + info.type + " cannot be read as floats");
    }
    return out;
  }

  @Override
  public void close() {
    closeQuietly(session);
    sessionOptions.close();
  }

  private static void closeQuietly(OrtSession s) {
    if (s != null) {
      try {
        s.close();
      } catch (OrtException ignored) {
        // closing a session only fails if it was already closed
      }
    }
  }
}
