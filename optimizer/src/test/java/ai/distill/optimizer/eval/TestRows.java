package ai.distill.optimizer.eval;

import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.table.RowTable;
import ai.distill.store.rows.Row;
import ai.distill.store.rows.RowTensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Builds in-memory rows for tests. */
public final class TestRows {

  private TestRows() {}

  public static RowTensor tensor(double... values) {
    return new RowTensor(new int[] {values.length}, values);
  }

  /** {@code rows} as a table of {@code model}'s inputs. */
  public static RowTable table(OnnxModel model, List<Row> rows) {
    return RowTable.fromRows(RowTable.inputsOf(model), rows);
  }

  public static Row row(long line, Integer label, Map<String, RowTensor> inputs) {
    return new Row(line, inputs, label, null);
  }

  /**
   * Rows for a model with one FLOAT input {@code name} of {@code width}, gaussian values, label
   * from a coin.
   */
  public static List<Row> gaussian(String name, int width, int count, long seed) {
    Random r = new Random(seed);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      double[] v = new double[width];
      for (int j = 0; j < width; j++) {
        v[j] = r.nextGaussian();
      }
      rows.add(row(i + 1, r.nextBoolean() ? 1 : 0, Map.of(name, tensor(v))));
    }
    return rows;
  }

  /**
   * Rows for {@code TinyModels.ctrModel}: log-normal-ish dense, Zipf-ish ids; labels from a hidden
   * rule.
   */
  public static List<Row> ctr(int dense, int sparse, int vocab, int count, long seed) {
    Random r = new Random(seed);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      double[] d = new double[dense];
      double s = 0;
      for (int j = 0; j < dense; j++) {
        d[j] = Math.log1p(Math.exp(1 + 1.2 * r.nextGaussian()));
        s += (j % 2 == 0 ? 1 : -1) * d[j];
      }
      double[] ids = new double[sparse];
      for (int j = 0; j < sparse; j++) {
        ids[j] = Math.min(vocab - 1, (int) Math.floor(Math.pow(r.nextDouble(), 3) * vocab));
        s += ids[j] < vocab / 10.0 ? 0.3 : -0.3;
      }
      int label = r.nextDouble() < 1 / (1 + Math.exp(-s)) ? 1 : 0;
      Map<String, RowTensor> in = new LinkedHashMap<>();
      in.put("dense", tensor(d));
      in.put("sparse", tensor(ids));
      rows.add(row(i + 1, label, in));
    }
    return rows;
  }
}
