package ai.distill.loadtest.transport;

import ai.distill.gateway.grpc.proto.ModelInferRequest;
import ai.distill.gateway.grpc.proto.ModelInferRequest.InferInputTensor;
import ai.distill.loadtest.LoadTestException;
import ai.distill.loadtest.oip.InputRow;
import ai.distill.loadtest.oip.ModelMetadata;
import ai.distill.loadtest.oip.RequestBodies;
import ai.distill.store.tensor.TensorSpec;
import com.google.protobuf.ByteString;
import io.vertx.core.buffer.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The same rows encoded for the streaming transports: OIP gRPC requests with {@code
 * raw_input_contents} (what Triton's clients send) and NDJSON chunks in the rows format. Immutable.
 */
public final class TransportPayloads {

  private final List<ModelInferRequest> requests;
  private final List<Buffer> ndjson;
  private final int rowsPerRequest;

  private TransportPayloads(List<ModelInferRequest> requests, List<Buffer> ndjson, int rows) {
    this.requests = requests;
    this.ndjson = ndjson;
    this.rowsPerRequest = rows;
  }

  /** Up to {@code maxRequests} distinct requests of {@code rowsPerRequest} rows, cycling rows. */
  public static TransportPayloads encode(
      ModelMetadata model, List<InputRow> rows, int rowsPerRequest, int maxRequests) {
    RequestBodies.checkFits(model, rows);
    List<ModelInferRequest> requests = new ArrayList<>();
    List<Buffer> ndjson = new ArrayList<>();
    int cursor = 0;
    for (int b = 0; b < maxRequests; b++) {
      List<InputRow> batch = new ArrayList<>(rowsPerRequest);
      for (int r = 0; r < rowsPerRequest; r++) {
        batch.add(rows.get(cursor));
        cursor = (cursor + 1) % rows.size();
      }
      requests.add(request(model, batch));
      ndjson.add(lines(model, batch));
    }
    return new TransportPayloads(List.copyOf(requests), List.copyOf(ndjson), rowsPerRequest);
  }

  private static ModelInferRequest request(ModelMetadata model, List<InputRow> batch) {
    ModelInferRequest.Builder b = ModelInferRequest.newBuilder().setModelName(model.name());
    for (TensorSpec s : model.inputs()) {
      long perRow = s.elementsPerRow();
      InferInputTensor.Builder t =
          InferInputTensor.newBuilder()
              .setName(s.name())
              .setDatatype(s.datatype().name())
              .addShape(batch.size());
      for (int i = 1; i < s.shape().length; i++) {
        t.addShape(s.shape()[i]);
      }
      b.addInputs(t);
      ByteBuffer raw =
          ByteBuffer.allocate((int) (batch.size() * perRow * s.datatype().byteSize()))
              .order(ByteOrder.LITTLE_ENDIAN);
      for (InputRow row : batch) {
        for (double v : row.inputs().get(s.name())) {
          switch (s.datatype()) {
            case FP32 -> raw.putFloat((float) v);
            case FP64 -> raw.putDouble(v);
            case INT64 -> raw.putLong((long) v);
            case INT32 -> raw.putInt((int) v);
            default ->
                throw new LoadTestException(
                    "input '"
                        + s.name()
                        + "': "
                        + s.datatype()
                        + " is not supported by this driver");
          }
        }
      }
      b.addRawInputContents(ByteString.copyFrom(raw.flip()));
    }
    return b.build();
  }

  private static Buffer lines(ModelMetadata model, List<InputRow> batch) {
    StringBuilder sb = new StringBuilder(batch.size() * 256);
    for (InputRow row : batch) {
      sb.append("{\"inputs\":{");
      boolean first = true;
      for (TensorSpec s : model.inputs()) {
        sb.append(first ? "" : ",").append('"').append(s.name()).append("\":[");
        first = false;
        double[] values = row.inputs().get(s.name());
        for (int i = 0; i < values.length; i++) {
          if (i > 0) {
            sb.append(',');
          }
          if (s.datatype().isInteger()) {
            sb.append((long) values[i]);
          } else {
            sb.append((float) values[i]);
          }
        }
        sb.append(']');
      }
      sb.append("}}\n");
    }
    return Buffer.buffer(sb.toString());
  }

  public int size() {
    return requests.size();
  }

  public int rowsPerRequest() {
    return rowsPerRequest;
  }

  /** The {@code i}-th gRPC request (cycling). */
  public ModelInferRequest request(long i) {
    return requests.get((int) (i % requests.size()));
  }

  /** The {@code i}-th chunk of {@link #rowsPerRequest()} NDJSON rows (cycling). */
  public Buffer ndjson(long i) {
    return ndjson.get((int) (i % ndjson.size()));
  }
}
