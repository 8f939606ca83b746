package ai.distill.optimizer.distill;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Scores an {@link InputTable} with an ONNX model in ORT, batch by batch, returning the single
 * output's value per row. Used for the teacher's soft targets and to check exported students.
 * Owns its session; close it. Not thread-safe.
 */
public final class TableScorer implements AutoCloseable {

    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final OrtSession session;
    private final String what;

    /**
     * @param model the ONNX model bytes
     * @param intraOpThreads ORT intra-op threads (0: ORT's default)
     * @param what how to name the model in messages, e.g. "teacher ctr:1"
     */
    public TableScorer(byte[] model, int intraOpThreads, String what) {
        this.what = what;
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            if (intraOpThreads > 0) {
                options.setIntraOpNumThreads(intraOpThreads);
            }
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            session = env.createSession(model, options);
        } catch (OrtException e) {
            throw new IllegalArgumentException(what + " cannot be loaded by ONNX Runtime: " + e.getMessage(), e);
        }
    }

    /** The model's output for every row (one value per row), in row order. */
    public float[] score(InputTable table, int batchRows) {
        List<TeacherSignature.Input> inputs = table.signature().inputs();
        float[] out = new float[table.rows()];
        for (int start = 0; start < table.rows(); start += batchRows) {
            int n = Math.min(batchRows, table.rows() - start);
            Map<String, OnnxTensor> feed = new HashMap<>();
            try {
                for (int k = 0; k < inputs.size(); k++) {
                    TeacherSignature.Input in = inputs.get(k);
                    int[] dims = in.dims();
                    long[] shape = new long[dims.length + 1];
                    shape[0] = n;
                    for (int i = 0; i < dims.length; i++) {
                        shape[i + 1] = dims[i];
                    }
                    int w = in.width();
                    if (in.kind() == TeacherSignature.Kind.DENSE) {
                        FloatBuffer b = FloatBuffer.wrap((float[]) table.column(k), start * w, n * w).slice();
                        feed.put(in.name(), OnnxTensor.createTensor(env, b, shape));
                    } else {
                        LongBuffer b = LongBuffer.wrap((long[]) table.column(k), start * w, n * w).slice();
                        feed.put(in.name(), OnnxTensor.createTensor(env, b, shape));
                    }
                }
                try (OrtSession.Result result = session.run(feed)) {
                    OnnxTensor t = (OnnxTensor) result.get(0);
                    FloatBuffer fb = t.getFloatBuffer();
                    if (fb == null || fb.remaining() != n) {
                        throw new IllegalArgumentException(what + " returned " + (fb == null ? "a non-float output"
                                : fb.remaining() + " values for " + n + " rows") + " (expected: one probability per row)");
                    }
                    fb.get(out, start, n);
                }
            } catch (OrtException e) {
                throw new IllegalArgumentException(what + " failed on rows " + (start + 1) + ".." + (start + n) + ": "
                        + e.getMessage(), e);
            } finally {
                feed.values().forEach(OnnxTensor::close);
            }
        }
        return out;
    }

    /** Like {@link #score} but checks every value is a probability in [0, 1]. */
    public float[] probabilities(InputTable table, int batchRows) {
        float[] p = score(table, batchRows);
        for (int i = 0; i < p.length; i++) {
            if (!(p[i] >= 0f && p[i] <= 1f)) {
                throw new UnsupportedTeacherException(what + " output " + p[i] + " on row " + (i + 1)
                        + " is not a probability in [0, 1]; distillation needs a sigmoid (probability) output");
            }
        }
        return p;
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException("closing " + what + ": " + e.getMessage(), e);
        }
    }
}
