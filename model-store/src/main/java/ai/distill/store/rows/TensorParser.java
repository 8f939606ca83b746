package ai.distill.store.rows;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.Arrays;

/**
 * Parses one tensor value (number or nested lists) into a reusable buffer; rejects ragged lists and
 * NaN.
 */
final class TensorParser {
  private double[] buf = new double[64];
  private int n;
  private int[] dims = new int[8];
  private int rank;
  private int leafDepth;
  private String problem;

  /** Parses the value at the current token; returns null or a description of the problem. */
  String parse(JsonParser p) throws IOException {
    n = 0;
    rank = 0;
    leafDepth = -1;
    problem = null;
    Arrays.fill(dims, -1);
    value(p, p.currentToken(), 0);
    if (problem == null && leafDepth >= 0 && leafDepth != rank) {
      problem = "mixes numbers and lists at the same depth";
    }
    return problem;
  }

  RowTensor result() {
    return new RowTensor(Arrays.copyOf(dims, rank), Arrays.copyOf(buf, n));
  }

  private void value(JsonParser p, JsonToken t, int depth) throws IOException {
    if (t == JsonToken.START_ARRAY) {
      if (leafDepth >= 0 && depth >= leafDepth) {
        problem = problem != null ? problem : "mixes numbers and lists at the same depth";
      }
      if (depth >= dims.length) {
        int old = dims.length;
        dims = Arrays.copyOf(dims, old * 2);
        Arrays.fill(dims, old, dims.length, -1);
      }
      int count = 0;
      JsonToken c;
      while ((c = p.nextToken()) != JsonToken.END_ARRAY) {
        if (c == null) {
          throw new RowsReader.RowsSyntaxException("unexpected end of line inside a list");
        }
        value(p, c, depth + 1);
        count++;
      }
      if (dims[depth] < 0) {
        dims[depth] = count;
        rank = Math.max(rank, depth + 1);
      } else if (dims[depth] != count && problem == null) {
        problem =
            "ragged lists: "
                + count
                + " elements where "
                + dims[depth]
                + " were seen at depth "
                + depth
                + " (expected: a rectangular tensor)";
      }
      return;
    }
    double d;
    switch (t) {
      case VALUE_NUMBER_INT ->
          d =
              p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                  ? p.getBigIntegerValue().doubleValue()
                  : p.getLongValue();
      case VALUE_NUMBER_FLOAT -> {
        d = p.getDoubleValue();
        if (!Double.isFinite(d) && problem == null) {
          problem = "NaN/Infinity is not allowed (element " + n + ": " + p.getText() + ")";
        }
      }
      case VALUE_TRUE -> d = 1;
      case VALUE_FALSE -> d = 0;
      default -> {
        if (problem == null) {
          problem =
              "element "
                  + n
                  + " is "
                  + RowsReader.describe(t)
                  + " (expected: a number or a list of numbers)";
        }
        if (t == JsonToken.START_OBJECT) {
          p.skipChildren();
        }
        return;
      }
    }
    if (leafDepth < 0) {
      leafDepth = depth;
    } else if (leafDepth != depth && problem == null) {
      problem = "mixes numbers and lists at the same depth";
    }
    if (depth < rank && problem == null) {
      problem = "mixes numbers and lists at the same depth";
    }
    if (n == buf.length) {
      buf = Arrays.copyOf(buf, n * 2);
    }
    buf[n++] = d;
  }
}
