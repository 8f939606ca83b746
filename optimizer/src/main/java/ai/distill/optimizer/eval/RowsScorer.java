package ai.distill.optimizer.eval;

import ai.distill.store.rows.Row;
import ai.distill.store.rows.RowTensor;
import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import ai.onnxruntime.TensorInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs an ONNX model over {@link Row}s in batches with ONNX Runtime and hands back outputs as
 * floats. Owns one {@link OrtSession} (closed by {@link #close()}); every input tensor and
 * result is closed after each batch. Rows that do not fit the model's inputs fail with a
 * {@link RowSignatureException} naming the row and the input. Not thread-safe.
 *
 * <pre>{@code
 * try (RowsScorer s = RowsScorer.open(modelBytes, RowsScorer.Options.defaults())) {
 *     float[] p = s.score(rows, "prob");
 * }
 * }</pre>
 */
public final class RowsScorer implements AutoCloseable {

    /**
     * Session and batching options.
     *
     * @param intraOpThreads ORT intra-op threads (> 0)
     * @param optimization graph optimization level
     * @param batchSize rows per {@code run} (> 0)
     * @param optimizedModelPath where ORT writes the optimized graph, or null
     */
    public record Options(int intraOpThreads, OptLevel optimization, int batchSize, Path optimizedModelPath) {

        public Options {
            if (intraOpThreads <= 0) {
                throw new IllegalArgumentException("intraOpThreads : " + intraOpThreads + " (expected: > 0)");
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

    /** Receives the outputs of one batch, each flattened row-major ({@code rowCount × valuesPerRow}). */
    @FunctionalInterface
    public interface BatchConsumer {
        void accept(int firstRow, int rowCount, Map<String, float[]> outputs);
    }

    private record Input(String name, OnnxJavaType type, long[] shape) {
    }

    private final OrtEnvironment env;
    private final OrtSession.SessionOptions sessionOptions;
    private final OrtSession session;
    private final Options options;
    private final List<Input> inputs = new ArrayList<>();
    private final List<String> outputNames;

    private RowsScorer(byte[] model, Options options) {
        this.env = OrtEnvironment.getEnvironment();
        this.options = options;
        OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        OrtSession s = null;
        try {
            so.setIntraOpNumThreads(options.intraOpThreads());
            so.setInterOpNumThreads(1);
            so.setOptimizationLevel(options.optimization());
            if (options.optimizedModelPath() != null) {
                so.setOptimizedModelFilePath(options.optimizedModelPath().toString());
                // ORT warns that an ALL_OPT graph is hardware-specific; we only read it to count kernels
                so.setSessionLogLevel(ai.onnxruntime.OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR);
            }
            s = env.createSession(model, so);
            for (Map.Entry<String, NodeInfo> e : s.getInputInfo().entrySet()) {
                if (!(e.getValue().getInfo() instanceof TensorInfo t)) {
                    throw new IllegalArgumentException("model input '" + e.getKey() + "' is not a tensor ("
                            + e.getValue().getInfo() + "); only tensor inputs are supported");
                }
                inputs.add(new Input(e.getKey(), t.type, t.getShape()));
            }
            this.outputNames = List.copyOf(s.getOutputInfo().keySet());
        } catch (OrtException | RuntimeException e) {
            closeQuietly(s);
            so.close();
            if (e instanceof OrtException oe) {
                throw new ScoringException("ONNX Runtime could not load the model: " + oe.getMessage(), oe);
            }
            throw (RuntimeException) e;
        }
        this.session = s;
        this.sessionOptions = so;
    }

    public static RowsScorer open(byte[] model, Options options) {
        return new RowsScorer(model, options);
    }

    public static RowsScorer open(Path model, Options options) throws IOException {
        return new RowsScorer(Files.readAllBytes(model), options);
    }

    public List<String> outputNames() {
        return outputNames;
    }

    public List<String> inputNames() {
        return inputs.stream().map(Input::name).toList();
    }

    /** One value per row of {@code output} (which must have exactly one value per row). */
    public float[] score(Iterable<Row> rows, String output) {
        if (!outputNames.contains(output)) {
            throw new IllegalArgumentException("output '" + output + "' is not an output of the model (expected one of "
                    + outputNames + ")");
        }
        FloatList out = new FloatList();
        forEachBatch(rows, Set.of(output), (first, n, outputs) -> {
            float[] v = outputs.get(output);
            if (v.length != n) {
                throw new IllegalArgumentException("output '" + output + "' has " + (v.length / Math.max(1, n))
                        + " values per row (expected: 1); use scoreAll");
            }
            out.addAll(v);
        });
        return out.toArray();
    }

    /** All outputs, per output name then per row. */
    public Map<String, float[][]> scoreAll(Iterable<Row> rows) {
        Map<String, List<float[]>> acc = new LinkedHashMap<>();
        forEachBatch(rows, Set.copyOf(outputNames), (first, n, outputs) -> {
            for (String name : outputNames) {
                float[] v = outputs.get(name);
                int per = n == 0 ? 0 : v.length / n;
                List<float[]> l = acc.computeIfAbsent(name, k -> new ArrayList<>());
                for (int r = 0; r < n; r++) {
                    l.add(Arrays.copyOfRange(v, r * per, (r + 1) * per));
                }
            }
        });
        Map<String, float[][]> result = new LinkedHashMap<>();
        for (String name : outputNames) {
            result.put(name, acc.getOrDefault(name, List.of()).toArray(float[][]::new));
        }
        return result;
    }

    /** Streams rows through the model one batch at a time; only the requested outputs are computed. */
    public void forEachBatch(Iterable<Row> rows, Set<String> outputs, BatchConsumer consumer) {
        for (String o : outputs) {
            if (!outputNames.contains(o)) {
                throw new IllegalArgumentException("output '" + o + "' is not an output of the model (expected one of "
                        + outputNames + ")");
            }
        }
        List<Row> batch = new ArrayList<>(options.batchSize());
        int first = 0;
        for (Row row : rows) {
            batch.add(row);
            if (batch.size() == options.batchSize()) {
                consumer.accept(first, batch.size(), runBatch(batch, outputs));
                first += batch.size();
                batch.clear();
            }
        }
        if (!batch.isEmpty()) {
            consumer.accept(first, batch.size(), runBatch(batch, outputs));
        }
    }

    /** Builds the input tensors for a batch of rows; the caller closes them. */
    public Map<String, OnnxTensor> tensors(List<Row> batch) {
        Map<String, OnnxTensor> tensors = new HashMap<>();
        try {
            for (Input in : inputs) {
                tensors.put(in.name(), tensor(in, batch));
            }
            return tensors;
        } catch (OrtException e) {
            tensors.values().forEach(OnnxTensor::close);
            throw new ScoringException("could not create input tensors: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            tensors.values().forEach(OnnxTensor::close);
            throw e;
        }
    }

    /** Runs prepared tensors (not closed here) and discards the result; for benchmarks. */
    public void runOnly(Map<String, OnnxTensor> tensors) {
        try (OrtSession.Result r = session.run(tensors)) {
            if (r.size() == 0) {
                throw new IllegalStateException("model returned no outputs");
            }
        } catch (OrtException e) {
            throw new ScoringException("ONNX Runtime failed to run the model: " + e.getMessage(), e);
        }
    }

    private Map<String, float[]> runBatch(List<Row> batch, Set<String> outputs) {
        Map<String, OnnxTensor> tensors = tensors(batch);
        try (OrtSession.Result result = session.run(tensors, outputs)) {
            Map<String, float[]> out = new HashMap<>();
            for (Map.Entry<String, OnnxValue> e : result) {
                if (e.getValue() instanceof OnnxTensor t) {
                    out.put(e.getKey(), toFloats(t));
                }
            }
            return out;
        } catch (OrtException e) {
            throw new ScoringException("ONNX Runtime failed on the batch starting at row " + batch.get(0).line()
                    + ": " + e.getMessage(), e);
        } finally {
            tensors.values().forEach(OnnxTensor::close);
        }
    }

    private OnnxTensor tensor(Input in, List<Row> batch) throws OrtException {
        long[] modelShape = in.shape();
        long[] shape = modelShape.length == 0 ? new long[] {batch.size()} : modelShape.clone();
        shape[0] = batch.size();
        long perRow = 1;
        boolean dynamic = false;
        for (int i = 1; i < shape.length; i++) {
            if (shape[i] < 0) {
                dynamic = true;
            } else {
                perRow *= shape[i];
            }
        }
        if (dynamic) {
            RowTensor t0 = rowTensor(batch.get(0), in);
            int[] rs = t0.shape();
            if (rs.length != shape.length - 1) {
                throw new RowSignatureException(batch.get(0).line(), in.name(), "has shape " + Arrays.toString(rs)
                        + " (expected rank " + (shape.length - 1) + " to match " + Arrays.toString(modelShape) + ")");
            }
            perRow = 1;
            for (int i = 1; i < shape.length; i++) {
                if (shape[i] < 0) {
                    shape[i] = rs[i - 1];
                }
                perRow *= shape[i];
            }
        }
        int width = elementBytes(in);
        ByteBuffer buf = ByteBuffer.allocateDirect(Math.toIntExact(batch.size() * perRow * width))
                .order(ByteOrder.nativeOrder());
        for (Row row : batch) {
            RowTensor t = rowTensor(row, in);
            double[] v = t.values();
            if (v.length != perRow) {
                throw new RowSignatureException(row.line(), in.name(), "has " + v.length + " values (expected: " + perRow
                        + ", shape " + Arrays.toString(Arrays.copyOfRange(shape, 1, shape.length)) + " per row)");
            }
            for (double d : v) {
                switch (in.type()) {
                    case FLOAT -> buf.putFloat((float) d);
                    case DOUBLE -> buf.putDouble(d);
                    case INT64 -> buf.putLong((long) d);
                    case INT32 -> buf.putInt((int) d);
                    case INT16 -> buf.putShort((short) d);
                    case INT8, UINT8 -> buf.put((byte) (int) d);
                    case BOOL -> buf.put((byte) (d != 0 ? 1 : 0));
                    default -> throw new IllegalArgumentException("input '" + in.name() + "' has type " + in.type()
                            + ", which rows cannot carry");
                }
            }
        }
        buf.rewind();
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

    private static int elementBytes(Input in) {
        return switch (in.type()) {
            case DOUBLE, INT64 -> 8;
            case FLOAT, INT32 -> 4;
            case INT16 -> 2;
            default -> 1;
        };
    }

    private static RowTensor rowTensor(Row row, Input in) {
        RowTensor t = row.inputs().get(in.name());
        if (t == null) {
            throw new RowSignatureException(row.line(), in.name(), "is missing (the row has " + row.inputs().keySet() + ")");
        }
        return t;
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
            default -> throw new IllegalArgumentException("output type " + info.type + " cannot be read as floats");
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

    /** A growable float array. */
    static final class FloatList {
        private float[] data = new float[1024];
        private int size;

        void addAll(float[] v) {
            if (size + v.length > data.length) {
                data = Arrays.copyOf(data, Math.max(data.length * 2, size + v.length));
            }
            System.arraycopy(v, 0, data, size, v.length);
            size += v.length;
        }

        float[] toArray() {
            return Arrays.copyOf(data, size);
        }
    }
}
