package ai.distill.optimizer.train;

/**
 * Per-tensor activation ranges for fake quantization, tracked as an exponential moving average of
 * the min/max observed per step. Updated by the trainer thread between steps only.
 */
final class ActivationRanges {

  private static final float MOMENTUM = 0.9f;
  private final float[] lo;
  private final float[] hi;
  private boolean ready;

  ActivationRanges(int tensors) {
    lo = new float[tensors];
    hi = new float[tensors];
  }

  boolean ready() {
    return ready;
  }

  float lo(int t) {
    return lo[t];
  }

  float hi(int t) {
    return hi[t];
  }

  /** Folds one step's observations (shards in order) into the ranges. */
  void update(ShardWorkspace[] shards, int used) {
    for (int t = 0; t < lo.length; t++) {
      float l = Float.POSITIVE_INFINITY;
      float h = Float.NEGATIVE_INFINITY;
      for (int s = 0; s < used; s++) {
        l = Math.min(l, shards[s].observedLo[t]);
        h = Math.max(h, shards[s].observedHi[t]);
      }
      if (ready) {
        lo[t] = MOMENTUM * lo[t] + (1 - MOMENTUM) * l;
        hi[t] = MOMENTUM * hi[t] + (1 - MOMENTUM) * h;
      } else {
        lo[t] = l;
        hi[t] = h;
      }
    }
    ready = true;
  }
}
