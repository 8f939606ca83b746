/**
 * What the optimizer's jobs share with whoever runs them: {@link
 * ai.distill.optimizer.job.ProgressListener} (stage, fraction 0..1, a line to print, and a
 * cancellation check) and {@link ai.distill.optimizer.job.JobCancelledException}. The jobs
 * themselves are {@link ai.distill.optimizer.quant.QuantizeJob} and {@link
 * ai.distill.optimizer.distill.DistillJob}.
 */
package ai.distill.optimizer.job;
