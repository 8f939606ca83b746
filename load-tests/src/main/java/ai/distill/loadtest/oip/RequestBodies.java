package ai.distill.loadtest.oip;

import ai.distill.loadtest.LoadTestException;
import ai.distill.store.tensor.Datatype;
import ai.distill.store.tensor.TensorSpec;
import io.vertx.core.buffer.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Pre-encoded OIP v2 inference request bodies, {@code rowsPerRequest} rows each, cycling through
 * the given rows; encoded once before a run so the generator only writes bytes. Either JSON ({@code
 * "data"} lists) or the binary tensor extension (JSON header with {@code binary_data_size} per
 * input, then raw little-endian tensors; header length in {@code Inference-Header-Content-Length}).
 * Checks that the rows fit the model's signature first. Immutable.
 */
public final class RequestBodies {
  /** The header the binary tensor extension uses for the JSON part's length. */
  public static final String HEADER_LENGTH = "Inference-Header-Content-Length";

  private final List<Buffer> bodies;
  private final List<Integer> headerLengths;
  private final int rowsPerRequest;
  private final boolean binary;

  private RequestBodies(
      List<Buffer> bodies, List<Integer> headerLengths, int rowsPerRequest, boolean binary) {
    this.bodies = bodies;
    this.headerLengths = headerLengths;
    this.rowsPerRequest = rowsPerRequest;
    this.binary = binary;
  }

  /**
   * Encodes up to {@code maxBodies} distinct requests from {@code rows}.
   *
   * @throws LoadTestException when a row lacks a model input, has one the model does not declare,
   *     has the wrong number of elements, or has fractional values for an integer input
   */
  public static RequestBodies encode(
      ModelMetadata model, List<InputRow> rows, int rowsPerRequest, boolean binary, int maxBodies) {
    return encode(model, rows, rowsPerRequest, binary, maxBodies, false);
  }

  /**
   * As above; with {@code users}, request {@code b} also carries {@code "parameters": {"user_id":
   * "u<b>"}}, so that an experiment assigns each body's user stickily (and counts exposures).
   */
  public static RequestBodies encode(
      ModelMetadata model,
      List<InputRow> rows,
      int rowsPerRequest,
      boolean binary,
      int maxBodies,
      boolean users) {
    if (rowsPerRequest < 1) {
      throw new LoadTestException("rows per request : " + rowsPerRequest + " (expected: >= 1)");
    }
    if (rows.isEmpty()) {
      throw new LoadTestException("no rows to send");
    }
    checkFits(model, rows);
    int count =
        (int) Math.max(1, Math.min(maxBodies, (rows.size() + rowsPerRequest - 1) / rowsPerRequest));
    List<Buffer> bodies = new ArrayList<>(count);
    List<Integer> headerLengths = new ArrayList<>(count);
    int cursor = 0;
    for (int b = 0; b < count; b++) {
      List<InputRow> batch = new ArrayList<>(rowsPerRequest);
      for (int r = 0; r < rowsPerRequest; r++) {
        batch.add(rows.get(cursor));
        cursor = (cursor + 1) % rows.size();
      }
      if (binary) {
        encodeBinary(model, batch, "r" + b, users ? "u" + b : null, bodies, headerLengths);
      } else {
        bodies.add(Buffer.buffer(json(model, batch, "r" + b, users ? "u" + b : null)));
        headerLengths.add(-1);
      }
    }
    return new RequestBodies(
        List.copyOf(bodies), List.copyOf(headerLengths), rowsPerRequest, binary);
  }

  /** The checks {@link #encode} makes, on their own. */
  public static void checkFits(ModelMetadata model, List<InputRow> rows) {
    for (TensorSpec spec : model.inputs()) {
      byteWidth(spec.datatype());
    }
    InputRow first = rows.get(0);
    for (String name : first.inputs().keySet()) {
      if (model.input(name) == null) {
        throw new LoadTestException(
            "rows have input '"
                + name
                + "' that model '"
                + model.name()
                + "' does not declare (model inputs: "
                + names(model)
                + ")");
      }
    }
    for (int i = 0; i < rows.size(); i++) {
      InputRow row = rows.get(i);
      for (TensorSpec spec : model.inputs()) {
        double[] values = row.inputs().get(spec.name());
        if (values == null) {
          throw new LoadTestException(
              "row "
                  + (i + 1)
                  + " lacks input '"
                  + spec.name()
                  + "' of model '"
                  + model.name()
                  + "' (model inputs: "
                  + names(model)
                  + ")");
        }
        long expected = spec.elementsPerRow();
        if (expected >= 0 && values.length != expected) {
          throw new LoadTestException(
              "row "
                  + (i + 1)
                  + " input '"
                  + spec.name()
                  + "' has "
                  + values.length
                  + " values but model '"
                  + model.name()
                  + "' expects "
                  + expected
                  + " per row (shape "
                  + java.util.Arrays.toString(spec.shape())
                  + ")");
        }
        if (spec.datatype().isInteger()) {
          for (double v : values) {
            if (v != Math.rint(v)) {
              throw new LoadTestException(
                  "row "
                      + (i + 1)
                      + " input '"
                      + spec.name()
                      + "' has value "
                      + v
                      + " but the model expects "
                      + spec.datatype());
            }
          }
        }
      }
    }
  }

  public int size() {
    return bodies.size();
  }

  public Buffer body(long i) {
    return bodies.get((int) (i % bodies.size()));
  }

  /** The JSON header's length for a binary body, -1 for a JSON body. */
  public int headerLength(long i) {
    return headerLengths.get((int) (i % headerLengths.size()));
  }

  public int rowsPerRequest() {
    return rowsPerRequest;
  }

  public boolean binary() {
    return binary;
  }

  static String json(ModelMetadata model, List<InputRow> batch, String id) {
    return json(model, batch, id, null);
  }

  static String json(ModelMetadata model, List<InputRow> batch, String id, String user) {
    StringBuilder sb = new StringBuilder(256 + batch.size() * 64 * model.inputs().size());
    sb.append("{\"id\":\"").append(id).append("\",\"inputs\":[");
    for (int t = 0; t < model.inputs().size(); t++) {
      TensorSpec spec = model.inputs().get(t);
      if (t > 0) {
        sb.append(',');
      }
      int per = batch.get(0).inputs().get(spec.name()).length;
      header(sb, spec, batch.size(), per);
      sb.append(",\"data\":[");
      boolean firstValue = true;
      boolean integer = spec.datatype().isInteger();
      boolean bool = spec.datatype() == Datatype.BOOL;
      for (InputRow row : batch) {
        for (double v : row.inputs().get(spec.name())) {
          if (!firstValue) {
            sb.append(',');
          }
          firstValue = false;
          if (bool) {
            sb.append(v != 0);
          } else if (integer) {
            sb.append((long) v);
          } else if (spec.datatype() == Datatype.FP64) {
            sb.append(v);
          } else {
            sb.append((float) v);
          }
        }
      }
      sb.append("]}");
    }
    return sb.append(']').append(userParameter(user)).append('}').toString();
  }

  private static void encodeBinary(
      ModelMetadata model,
      List<InputRow> batch,
      String id,
      String user,
      List<Buffer> bodies,
      List<Integer> headerLengths) {
    StringBuilder sb = new StringBuilder();
    sb.append("{\"id\":\"").append(id).append("\",\"inputs\":[");
    List<ByteBuffer> tensors = new ArrayList<>();
    for (int t = 0; t < model.inputs().size(); t++) {
      TensorSpec spec = model.inputs().get(t);
      int per = batch.get(0).inputs().get(spec.name()).length;
      int width = byteWidth(spec.datatype());
      ByteBuffer bytes =
          ByteBuffer.allocate(width * per * batch.size()).order(ByteOrder.LITTLE_ENDIAN);
      for (InputRow row : batch) {
        for (double v : row.inputs().get(spec.name())) {
          switch (spec.datatype()) {
            case FP32 -> bytes.putFloat((float) v);
            case FP64 -> bytes.putDouble(v);
            case INT64, UINT64 -> bytes.putLong((long) v);
            case INT32, UINT32 -> bytes.putInt((int) v);
            case INT16, UINT16 -> bytes.putShort((short) v);
            default -> bytes.put((byte) v);
          }
        }
      }
      bytes.flip();
      tensors.add(bytes);
      if (t > 0) {
        sb.append(',');
      }
      header(sb, spec, batch.size(), per);
      sb.append(",\"parameters\":{\"binary_data_size\":").append(bytes.remaining()).append("}}");
    }
    sb.append(']').append(userParameter(user)).append('}');
    Buffer body = Buffer.buffer(sb.toString());
    headerLengths.add(body.length());
    for (ByteBuffer b : tensors) {
      byte[] raw = new byte[b.remaining()];
      b.get(raw);
      body.appendBytes(raw);
    }
    bodies.add(body);
  }

  private static String userParameter(String user) {
    return user == null ? "" : ",\"parameters\":{\"user_id\":\"" + user + "\"}";
  }

  private static void header(StringBuilder sb, TensorSpec spec, int rows, int perRow) {
    sb.append("{\"name\":\"").append(spec.name()).append("\",\"shape\":[").append(rows);
    long[] shape = spec.shape();
    if (shape.length > 1 && spec.elementsPerRow() >= 0) {
      for (int d = 1; d < shape.length; d++) {
        sb.append(',').append(shape[d]);
      }
    } else if (shape.length > 1) {
      sb.append(',').append(perRow);
    }
    sb.append("],\"datatype\":\"").append(spec.datatype()).append('"');
  }

  private static int byteWidth(Datatype datatype) {
    return switch (datatype) {
      case FP64, INT64, UINT64 -> 8;
      case FP32, INT32, UINT32 -> 4;
      case INT16, UINT16 -> 2;
      case INT8, UINT8, BOOL -> 1;
      default ->
          throw new LoadTestException(
              "datatype "
                  + datatype
                  + " is not supported by the load generator (supported: FP32, FP64, INT8..INT64, UINT8..UINT64, BOOL)");
    };
  }

  private static String names(ModelMetadata model) {
    return String.join(", ", model.inputs().stream().map(TensorSpec::name).toList());
  }

  @Override
  public String toString() {
    return String.format(
        Locale.ROOT,
        "%d %s bodies of %d rows",
        bodies.size(),
        binary ? "binary" : "JSON",
        rowsPerRequest);
  }
}
