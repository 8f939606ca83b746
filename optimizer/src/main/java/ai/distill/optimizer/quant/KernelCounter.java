package ai.distill.optimizer.quant;

import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.table.TableScorer;
import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Counts the kernels ONNX Runtime forms for a model: loads it with all optimizations and an
 * optimized-model output path, then reads the op types of the graph ORT wrote. Integer kernels
 * (QGemm, QLinearMatMul, MatMulIntegerToFloat, ...) show whether QDQ fusion worked. Stateless.
 */
public final class KernelCounter {

  /** Op types that compute matrix products or convolutions in integer arithmetic. */
  public static final Set<String> INTEGER_KERNELS =
      Set.of(
          "QGemm",
          "QLinearMatMul",
          "MatMulIntegerToFloat",
          "MatMulInteger",
          "DynamicQuantizeMatMul",
          "QLinearConv",
          "ConvInteger",
          "QAttention",
          "DynamicQuantizeLSTM",
          "QEmbedLayerNormalization");

  /** Float matrix products that remain after optimization. */
  public static final Set<String> FLOAT_MATMULS =
      Set.of("Gemm", "MatMul", "FusedGemm", "FusedMatMul");

  /** Op counts of the optimized graph, and the integer/float kernel totals. */
  public record Kernels(Map<String, Integer> ops, int integerKernels, int floatMatmuls) {}

  private KernelCounter() {}

  public static Kernels count(byte[] model, int threads) {
    Path file = null;
    try {
      file = Files.createTempFile("distill-optimized-", ".onnx");
      TableScorer.Options o = new TableScorer.Options(threads, OptLevel.ALL_OPT, 1, file);
      // the optimized graph is written while the session loads
      TableScorer.open(model, o).close();
      OnnxModel optimized = OnnxModel.load(file);
      Map<String, Integer> ops = new TreeMap<>(optimized.opCounts());
      int integer = 0;
      int floats = 0;
      for (Map.Entry<String, Integer> e : ops.entrySet()) {
        if (INTEGER_KERNELS.contains(e.getKey())) {
          integer += e.getValue();
        } else if (FLOAT_MATMULS.contains(e.getKey())) {
          floats += e.getValue();
        }
      }
      return new Kernels(ops, integer, floats);
    } catch (IOException e) {
      throw new UncheckedIOException("could not write or read the optimized model", e);
    } finally {
      if (file != null) {
        try {
          Files.deleteIfExists(file);
        } catch (IOException ignored) {
          // a temp file left behind is harmless
        }
      }
    }
  }
}
