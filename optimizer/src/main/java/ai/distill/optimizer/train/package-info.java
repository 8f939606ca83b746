/**
 * The pure-Java trainer for CTR students (and the demo teacher).
 *
 * <p>{@link ai.distill.optimizer.train.StudentNet}: one embedding table per int64 column
 * (power-of-two rows, ids hashed by their low bits), standardised float features, concatenated, an
 * MLP with ReLU and one logit. {@link ai.distill.optimizer.train.Trainer}: Adam on mini-batches cut
 * into fixed 64-row shards that a small pool runs in parallel and sums in shard order, so a seed
 * gives the same weights whatever the thread count; embedding rows are updated lazily (only rows a
 * batch touched). Kernels work on arrays of rows so C2 vectorises their inner loops. Optional int8
 * fake quantization (straight-through) of weights (per channel) and activations (per tensor, EMA
 * ranges). Any per-row loss plugs in through {@link ai.distill.optimizer.train.RowLoss}.
 */
package ai.distill.optimizer.train;
