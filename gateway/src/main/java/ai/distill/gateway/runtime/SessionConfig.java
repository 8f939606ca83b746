package ai.distill.gateway.runtime;

import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import java.util.Locale;

/**
 * ONNX Runtime session options used for every loaded model: intra-op threads per session run and
 * the graph optimization level. Immutable.
 */
public record SessionConfig(int intraOpThreads, OptLevel optimizationLevel) {

  /** One intra-op thread (parallelism comes from several workers), all optimizations. */
  public static final SessionConfig DEFAULT = new SessionConfig(1, OptLevel.ALL_OPT);

  public SessionConfig {
    if (intraOpThreads < 1) {
      throw new IllegalArgumentException(
          "intra_op_threads : " + intraOpThreads + " (expected: >= 1)");
    }
    if (optimizationLevel == null) {
      throw new IllegalArgumentException(
          "optimization_level : null (expected: one of none, basic, extended, all)");
    }
  }

  /** Parses {@code none|basic|extended|layout|all} (case-insensitive). */
  public static OptLevel parseLevel(String level) {
    return switch (level == null ? "" : level.toLowerCase(Locale.ROOT)) {
      case "none", "no_opt" -> OptLevel.NO_OPT;
      case "basic", "basic_opt" -> OptLevel.BASIC_OPT;
      case "extended", "extended_opt" -> OptLevel.EXTENDED_OPT;
      case "layout", "layout_opt" -> OptLevel.LAYOUT_OPT;
      case "all", "all_opt" -> OptLevel.ALL_OPT;
      default ->
          throw new IllegalArgumentException(
              "optimization_level : "
                  + level
                  + " (expected: one of none, basic, extended, layout, all)");
    };
  }
}
