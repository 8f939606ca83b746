package ai.distill.store.rows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * Not a test: measures RowsWriter and RowsReader on CTR-shaped rows (13 floats + 26 int64 + label).
 *
 * <pre>
 * java -cp model-store/target/classes:model-store/target/test-classes:$(deps) ai.distill.store.rows.RowsThroughput [rows] [dir]
 * </pre>
 */
public final class RowsThroughput {

  private RowsThroughput() {}

  public static void main(String[] args) throws Exception {
    int rows = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
    Path dir = args.length > 1 ? Path.of(args[1]) : Files.createTempDirectory("rows-throughput");
    Path file = dir.resolve("rows.jsonl");
    Random random = new Random(1);
    float[][] dense = new float[1024][13];
    long[][] sparse = new long[1024][26];
    for (int i = 0; i < 1024; i++) {
      for (int j = 0; j < 13; j++) {
        dense[i][j] = (float) Math.abs(random.nextGaussian() * 2);
      }
      for (int j = 0; j < 26; j++) {
        sparse[i][j] = random.nextInt(1000);
      }
    }
    for (int round = 0; round < 3; round++) {
      long t0 = System.nanoTime();
      try (RowsWriter w = RowsWriter.create(file)) {
        Map<String, Object> inputs = new LinkedHashMap<>();
        for (int i = 0; i < rows; i++) {
          inputs.put("dense", dense[i & 1023]);
          inputs.put("sparse", sparse[i & 1023]);
          w.write(inputs, i & 1, null);
        }
      }
      long t1 = System.nanoTime();
      long n = 0;
      double checksum = 0;
      try (RowsReader r = RowsReader.open(file)) {
        while (r.hasNext()) {
          Row row = r.next();
          checksum += row.input("dense").values()[0] + row.label();
          n++;
        }
      }
      long t2 = System.nanoTime();
      if (n != rows) {
        throw new IllegalStateException("read " + n + " rows, wrote " + rows);
      }
      System.out.printf(
          "round %d: %d rows x 39 values, %.1f MB: write %.0f rows/s, read %.0f rows/s (checksum %.1f)%n",
          round,
          rows,
          Files.size(file) / 1e6,
          rows / ((t1 - t0) / 1e9),
          rows / ((t2 - t1) / 1e9),
          checksum);
    }
    Files.delete(file);
  }
}
