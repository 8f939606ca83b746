/**
 * Optimizer jobs triggered through the gateway (the closed loop): {@link
 * ai.distill.gateway.jobs.JobRoutes} (the admin HTTP API), {@link
 * ai.distill.gateway.jobs.JobService} (validation, the bounded queue, one job per source,
 * persistence as {@code <store>/jobs/<id>.json}, restart recovery), {@link
 * ai.distill.gateway.jobs.JobRunner} (a child JVM or an in-process thread; the service never learns
 * which) and {@link ai.distill.gateway.jobs.CanaryHook} (what a successful job hands to the
 * experiments). The optimizer never learns HTTP: a job is its CLI command or its {@code
 * QuantizeJob}/{@code DistillJob} API.
 */
package ai.distill.gateway.jobs;
