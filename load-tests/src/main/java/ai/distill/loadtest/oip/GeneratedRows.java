package ai.distill.loadtest.oip;

import ai.distill.loadtest.LoadTestException;
import ai.distill.optimizer.distill.FixtureInputs;
import ai.distill.store.tensor.Datatype;
import ai.distill.store.tensor.TensorSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Input rows drawn from the CTR world's input distribution ({@link FixtureInputs}: log-normal dense
 * features for float inputs, Zipf ids in 0..999 for integer inputs) for any model signature whose
 * non-batch dims are static. Seeded, so runs are reproducible.
 */
public final class GeneratedRows {
  private GeneratedRows() {}

  public static List<InputRow> generate(ModelMetadata model, int rows, long seed) {
    if (rows < 1) {
      throw new LoadTestException("generated rows : " + rows + " (expected: >= 1)");
    }
    Random random = new Random(seed);
    List<InputRow> out = new ArrayList<>(rows);
    for (int r = 0; r < rows; r++) {
      Map<String, double[]> inputs = new LinkedHashMap<>();
      for (TensorSpec spec : model.inputs()) {
        long n = spec.elementsPerRow();
        if (n < 0) {
          throw new LoadTestException(
              "input '"
                  + spec.name()
                  + "' of model '"
                  + model.name()
                  + "' has dynamic non-batch dims "
                  + java.util.Arrays.toString(spec.shape())
                  + "; pass --rows with real rows instead of generating them");
        }
        double[] values = new double[(int) n];
        boolean integer = spec.datatype().isInteger() || spec.datatype() == Datatype.BOOL;
        for (int i = 0; i < values.length; i++) {
          values[i] =
              spec.datatype() == Datatype.BOOL
                  ? random.nextInt(2)
                  : integer ? FixtureInputs.sparseValue(random) : FixtureInputs.denseValue(random);
        }
        inputs.put(spec.name(), values);
      }
      out.add(new InputRow(inputs));
    }
    return out;
  }
}
