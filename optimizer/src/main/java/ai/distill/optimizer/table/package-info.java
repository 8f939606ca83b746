/**
 * Rows for ONNX Runtime, once for the whole optimizer: {@link ai.distill.optimizer.table.RowTable}
 * holds rows column-wise by input name (labels optional; a misfit row is a {@link
 * ai.distill.optimizer.table.RowSignatureException} naming its line and input) and {@link
 * ai.distill.optimizer.table.TableScorer} stacks it into ORT inputs batch by batch (every failure a
 * {@link ai.distill.optimizer.table.ScoringException} naming the model).
 */
package ai.distill.optimizer.table;
