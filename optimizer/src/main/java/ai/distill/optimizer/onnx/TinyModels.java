package ai.distill.optimizer.onnx;

import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Ready-made tiny models with seeded random weights, for tests and demos across modules. All have a
 * dynamic batch dimension and load in ONNX Runtime 1.29. Stateless.
 */
public final class TinyModels {

  private TinyModels() {}

  /**
   * An MLP: input {@code x} FLOAT [-1, inputs] → Gemm(transB=1)/Relu per hidden layer → Gemm →
   * Sigmoid → output {@code prob} FLOAT [-1, 1]. Weights are named {@code fc<i>.weight}/{@code
   * .bias}.
   */
  public static OnnxModel mlp(int inputs, int[] hidden, long seed) {
    positive("inputs", inputs);
    GraphBuilder g = GraphBuilder.create("mlp").input("x", DataType.FLOAT, -1, inputs);
    String last = mlpLayers(g, "x", inputs, hidden, new Random(seed));
    return g.op("Sigmoid", last, "prob").output("prob", DataType.FLOAT, -1, 1).build();
  }

  /**
   * A CTR model: {@code dense} FLOAT [-1, dense] and {@code sparse} INT64 [-1, sparse] (ids in [0,
   * vocab)); each sparse column is looked up in its own embedding table {@code emb<j>} [vocab, dim]
   * (Gather), concatenated with the dense features, fed to an MLP, and squashed into {@code prob}
   * FLOAT [-1, 1].
   */
  public static OnnxModel ctrModel(
      int dense, int sparse, int vocab, int dim, int[] hidden, long seed) {
    positive("dense", dense);
    positive("sparse", sparse);
    positive("vocab", vocab);
    positive("dim", dim);
    Random r = new Random(seed);
    GraphBuilder g =
        GraphBuilder.create("ctr")
            .input("dense", DataType.FLOAT, -1, dense)
            .input("sparse", DataType.INT64, -1, sparse);
    List<String> parts = new ArrayList<>();
    parts.add("dense");
    for (int j = 0; j < sparse; j++) {
      float[] table = new float[vocab * dim];
      for (int i = 0; i < table.length; i++) {
        table[i] = (float) (r.nextGaussian() * 0.3);
      }
      g.initializer("emb" + j, table, vocab, dim)
          .initializerInt64("col" + j, new long[] {j})
          .gather("sparse", "col" + j, "ids" + j, 1)
          .gather("emb" + j, "ids" + j, "e" + j, 0);
      parts.add("e" + j);
    }
    g.concat("features", 1, parts.toArray(String[]::new));
    String last = mlpLayers(g, "features", dense + sparse * dim, hidden, r);
    return g.op("Sigmoid", last, "prob").output("prob", DataType.FLOAT, -1, 1).build();
  }

  /**
   * A multi-input, multi-output, multi-dtype toy for datatype coverage: inputs {@code f32} FLOAT,
   * {@code f64} DOUBLE, {@code i32} INT32, {@code i64} INT64, {@code i8} INT8, {@code u8} UINT8 and
   * {@code flag} BOOL, all [-1, width]; each is cast to float and summed into {@code sum} FLOAT
   * [-1, width]; also {@code sum_f64} DOUBLE (sum cast) and {@code sum_i64} INT64 (sum cast,
   * truncating).
   */
  public static OnnxModel multiTypes(int width) {
    positive("width", width);
    GraphBuilder g = GraphBuilder.create("multi_types");
    DataType[] types = {
      DataType.FLOAT,
      DataType.DOUBLE,
      DataType.INT32,
      DataType.INT64,
      DataType.INT8,
      DataType.UINT8,
      DataType.BOOL
    };
    String[] names = {"f32", "f64", "i32", "i64", "i8", "u8", "flag"};
    for (int i = 0; i < names.length; i++) {
      g.input(names[i], types[i], -1, width);
    }
    String acc = "f32";
    for (int i = 1; i < names.length; i++) {
      g.cast(names[i], names[i] + "_f", DataType.FLOAT);
      String next = i == names.length - 1 ? "sum" : "acc" + i;
      g.add(acc, names[i] + "_f", next);
      acc = next;
    }
    g.cast("sum", "sum_f64", DataType.DOUBLE).cast("sum", "sum_i64", DataType.INT64);
    return g.output("sum", DataType.FLOAT, -1, width)
        .output("sum_f64", DataType.DOUBLE, -1, width)
        .output("sum_i64", DataType.INT64, -1, width)
        .build();
  }

  /**
   * Adds Gemm(transB=1)+Relu per hidden layer and a final Gemm to one logit; returns the logit
   * tensor name.
   */
  static String mlpLayers(GraphBuilder g, String in, int inputs, int[] hidden, Random r) {
    String x = in;
    int fanIn = inputs;
    int[] sizes = new int[hidden.length + 1];
    System.arraycopy(hidden, 0, sizes, 0, hidden.length);
    sizes[hidden.length] = 1;
    for (int l = 0; l < sizes.length; l++) {
      int out = positive("hidden[" + l + "]", sizes[l]);
      float[] w = new float[out * fanIn];
      double std = Math.sqrt(2.0 / fanIn);
      for (int i = 0; i < w.length; i++) {
        w[i] = (float) (r.nextGaussian() * std);
      }
      float[] b = new float[out];
      for (int i = 0; i < out; i++) {
        b[i] = (float) (r.nextGaussian() * 0.05);
      }
      String name = "fc" + l;
      g.initializer(name + ".weight", w, out, fanIn).initializer(name + ".bias", b, out);
      boolean lastLayer = l == sizes.length - 1;
      String y = lastLayer ? "logit" : name + "_out";
      g.gemm(x, name + ".weight", name + ".bias", y, true);
      if (!lastLayer) {
        g.op("Relu", y, name + "_relu");
        y = name + "_relu";
      }
      x = y;
      fanIn = out;
    }
    return x;
  }

  private static int positive(String what, int v) {
    if (v <= 0) {
      throw new IllegalArgumentException(what + " : " + v + " (expected: > 0)");
    }
    return v;
  }
}
