package ai.distill.gateway.runtime;

import ai.distill.gateway.batching.BatchRunner;
import ai.distill.gateway.tensor.InferRequest;
import ai.distill.gateway.tensor.OrtTypes;
import ai.distill.gateway.tensor.RequestedOutput;
import ai.distill.gateway.tensor.Tensor;
import ai.distill.store.tensor.TensorSpec;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs a batch of decoded requests through one ORT session: stacks each input along dimension 0
 * into the worker thread's reusable direct staging buffer ({@link StagingBuffers}), runs the
 * session once, and splits every output back into per-request row ranges. Thread-safe (an {@link
 * OrtSession} may run concurrently); every {@link OnnxTensor} and {@link OrtSession.Result} it
 * creates is closed before it returns. The session itself is owned by {@link LoadedModel}.
 */
final class OnnxBatchRunner implements BatchRunner<InferRequest, List<Tensor>> {

  private final String model;
  private final OrtEnvironment env;
  private final OrtSession session;
  private final ModelSignature signature;

  OnnxBatchRunner(String model, OrtEnvironment env, OrtSession session, ModelSignature signature) {
    this.model = model;
    this.env = env;
    this.session = session;
    this.signature = signature;
  }

  @Override
  public List<List<Tensor>> run(List<InferRequest> batch) {
    try {
      return runOrt(batch);
    } catch (OrtException e) {
      throw new ModelRunException(model, e);
    }
  }

  private List<List<Tensor>> runOrt(List<InferRequest> batch) throws OrtException {
    Set<String> wanted = wantedOutputs(batch);
    long[] rowCounts = new long[batch.size()];
    long totalRows = 0;
    for (int i = 0; i < batch.size(); i++) {
      rowCounts[i] = batch.get(i).rows();
      totalRows += rowCounts[i];
    }
    Map<String, OnnxTensor> inputs = new LinkedHashMap<>();
    try {
      int slot = 0;
      for (TensorSpec spec : signature.inputs()) {
        inputs.put(spec.name(), stack(spec, slot++, batch));
      }
      // The input tensors (and the buffers they wrap) stay referenced until run returns.
      try (OrtSession.Result result = session.run(inputs, wanted)) {
        Map<String, Tensor> merged = new LinkedHashMap<>();
        for (Map.Entry<String, OnnxValue> e : result) {
          merged.put(e.getKey(), toTensor(e.getKey(), (OnnxTensor) e.getValue()));
        }
        return split(batch, merged, rowCounts, totalRows);
      }
    } finally {
      for (OnnxTensor t : inputs.values()) {
        t.close();
      }
    }
  }

  private Set<String> wantedOutputs(List<InferRequest> batch) {
    Set<String> wanted = new LinkedHashSet<>();
    for (InferRequest r : batch) {
      if (r.outputs().isEmpty()) {
        for (TensorSpec s : signature.outputs()) {
          wanted.add(s.name());
        }
        break;
      }
      for (RequestedOutput o : r.outputs()) {
        wanted.add(o.name());
      }
    }
    return wanted;
  }

  // Every input is copied once, in request order, into this worker thread's staging buffer for
  // its position: ORT wraps a direct buffer without copying, and reusing it avoids a direct
  // allocation (and the Cleaner work behind it) per batch. The tensor is closed before the
  // buffer is reused by the next batch on the same thread.
  private OnnxTensor stack(TensorSpec spec, int slot, List<InferRequest> batch)
      throws OrtException {
    List<Tensor> parts = new ArrayList<>(batch.size());
    for (InferRequest r : batch) {
      parts.add(r.input(spec.name()));
    }
    Tensor stacked =
        Tensor.concatRows(spec.name(), parts, bytes -> StagingBuffers.get(slot, bytes));
    return OnnxTensor.createTensor(
        env, stacked.data(), stacked.shape(), OrtTypes.javaType(spec.datatype()));
  }

  private Tensor toTensor(String name, OnnxTensor value) {
    TensorInfo info = value.getInfo();
    ByteBuffer data = value.getByteBuffer();
    if (data == null) {
      throw new IllegalStateException(
          model
              + ": output '"
              + name
              + "' of type "
              + info.type
              + " cannot be returned (expected: a numeric or bool tensor)");
    }
    return Tensor.of(
        name, OrtTypes.datatype(info), info.getShape(), data.order(ByteOrder.nativeOrder()));
  }

  private List<List<Tensor>> split(
      List<InferRequest> batch, Map<String, Tensor> merged, long[] rowCounts, long totalRows) {
    List<List<Tensor>> results = new ArrayList<>(batch.size());
    if (batch.size() == 1) {
      results.add(select(batch.get(0), merged));
      return results;
    }
    long row = 0;
    for (int i = 0; i < batch.size(); i++) {
      Map<String, Tensor> mine = new LinkedHashMap<>();
      for (Tensor out : merged.values()) {
        if (out.rank() == 0 || out.rows() != totalRows) {
          throw new IllegalStateException(
              model
                  + ": output '"
                  + out.name()
                  + "' has shape "
                  + Arrays.toString(out.shape())
                  + " for a batch of "
                  + totalRows
                  + " rows (expected: dimension 0 equal to the rows); set max_batch_rows to 1 for this model");
        }
        mine.put(out.name(), out.sliceRows(row, row + rowCounts[i]));
      }
      row += rowCounts[i];
      results.add(select(batch.get(i), mine));
    }
    return results;
  }

  // The outputs a request asked for, in its order; all model outputs when it named none.
  private List<Tensor> select(InferRequest request, Map<String, Tensor> outputs) {
    List<Tensor> selected = new ArrayList<>();
    if (request.outputs().isEmpty()) {
      for (TensorSpec s : signature.outputs()) {
        Tensor t = outputs.get(s.name());
        if (t != null) {
          selected.add(t);
        }
      }
    } else {
      for (RequestedOutput o : request.outputs()) {
        selected.add(outputs.get(o.name()));
      }
    }
    return selected;
  }
}
