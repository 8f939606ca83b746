/**
 * Distillation of a student from a teacher ONNX model, from rows with or without labels.
 *
 * <p>Tour: {@link ai.distill.optimizer.distill.TeacherSignature} checks the teacher can be mirrored
 * (FLOAT/INT64 inputs, one probability output) and gives the columns of the {@link
 * ai.distill.optimizer.table.RowTable} the rows are read into; {@link
 * ai.distill.optimizer.table.TableScorer} gets the teacher's soft targets from ORT; {@link
 * ai.distill.optimizer.distill.FixtureInputs} generates unlabelled rows from the fixture's input
 * distribution; {@link ai.distill.optimizer.distill.DistillationLoss} is λ·T²·BCE(σ(z_t/T),
 * σ(z_s/T)) + (1−λ)·BCE(y, σ(z_s)); {@link ai.distill.optimizer.distill.Distiller} trains, exports
 * with {@link ai.distill.optimizer.distill.StudentExporter} (the teacher's exact input/output value
 * infos), checks ORT against the trainer (≤ 1e-5) and evaluates against the teacher ({@link
 * ai.distill.optimizer.distill.ModelCost} for FLOPs/params/size); {@link
 * ai.distill.optimizer.distill.Int8Chain} hands the student to the quantizer; {@link
 * ai.distill.optimizer.distill.DistillJob} is the store-level job behind the {@code distill}
 * command (nothing is published unless everything succeeded). This package does not use {@code
 * world}; {@code world} uses it.
 */
package ai.distill.optimizer.distill;
