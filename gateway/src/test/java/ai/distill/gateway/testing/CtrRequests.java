package ai.distill.gateway.testing;

import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.onnx.TinyModels;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Map;

/**
 * The tiny CTR model the HTTP tests serve (inputs {@code dense} FP32 [-1, 3] and {@code sparse}
 * INT64 [-1, 2]), OIP JSON requests for it, and its expected outputs computed with ORT directly.
 */
public final class CtrRequests {

  public static final OnnxModel CTR = TinyModels.ctrModel(3, 2, 10, 2, new int[] {4}, 7);

  private CtrRequests() {}

  /** A JSON infer request of {@code dense.length / 3} rows; {@code id} null leaves it out. */
  public static JsonObject request(String id, float[] dense, long[] sparse) {
    int rows = dense.length / 3;
    JsonArray d = new JsonArray();
    for (float f : dense) {
      d.add(f);
    }
    JsonArray s = new JsonArray();
    for (long l : sparse) {
      s.add(l);
    }
    JsonObject req =
        new JsonObject()
            .put(
                "inputs",
                new JsonArray()
                    .add(
                        new JsonObject()
                            .put("name", "dense")
                            .put("datatype", "FP32")
                            .put("shape", new JsonArray().add(rows).add(3))
                            .put("data", d))
                    .add(
                        new JsonObject()
                            .put("name", "sparse")
                            .put("datatype", "INT64")
                            .put("shape", new JsonArray().add(rows).add(2))
                            .put("data", s)));
    if (id != null) {
      req.put("id", id);
    }
    return req;
  }

  /** {@link #CTR}'s output per row, run in a fresh ORT session. */
  public static float[] ort(float[] dense, long[] sparse) throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    int rows = dense.length / 3;
    try (OrtSession s = env.createSession(CTR.toBytes());
        OnnxTensor d =
            OnnxTensor.createTensor(env, java.nio.FloatBuffer.wrap(dense), new long[] {rows, 3});
        OnnxTensor sp =
            OnnxTensor.createTensor(env, java.nio.LongBuffer.wrap(sparse), new long[] {rows, 2});
        OrtSession.Result r = s.run(Map.of("dense", d, "sparse", sp))) {
      float[][] out = (float[][]) r.get(0).getValue();
      float[] flat = new float[rows];
      for (int i = 0; i < rows; i++) {
        flat[i] = out[i][0];
      }
      return flat;
    }
  }
}
