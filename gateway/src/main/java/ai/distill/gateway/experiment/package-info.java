/**
 * Live A/B experiments between a teacher model and its students.
 *
 * <p>A tour, in the order a request meets it:
 *
 * <ul>
 *   <li>{@link ai.distill.gateway.experiment.ExperimentRoutes} mounts the experiment API on the
 *       gateway's router and registers the infer hook, so {@code POST
 *       /v2/models/{experiment}/infer} reaches {@link
 *       ai.distill.gateway.experiment.ExperimentService#select} (sticky assignment by {@link
 *       ai.distill.gateway.experiment.StickyAssigner}) and, after the response is written, {@link
 *       ai.distill.gateway.experiment.ExperimentService#completed} (counts, shadow scoring by
 *       {@link ai.distill.gateway.experiment.ShadowScorer}). The served request is observed by
 *       {@code feedback.FeedbackService} (its impression; joined clicks come back to the counts)
 *       and {@code capture.CaptureService} (sampled at the definition's {@code capture_rate}).
 *   <li>{@link ai.distill.gateway.experiment.Experiment} holds the live counts: per-variant user
 *       ledgers (delta-method sums), outcome counts ({@link
 *       ai.distill.gateway.experiment.RequestOutcome}: model errors and load shedding apart), the
 *       latency guardrails on model cost (queue wait + batch compute), the sequential SRM test,
 *       end-to-end latency windows (shown only), shadow agreement, weights, status and history.
 *   <li>{@link ai.distill.gateway.experiment.DecisionEngine} (every second) turns the figures into
 *       {@link ai.distill.gateway.experiment.DecisionKind}s: SRM by {@code stats.SequentialSrm} (an
 *       alarm freezes), non-inferiority on the always-valid {@code stats.ConfidenceSequence} after
 *       {@code stats.MinimumEvidence} with {@code stats.BenjaminiHochberg} across students, {@code
 *       stats.LatencyGuardrail} and {@code stats.ErrorGuardrail}; promote / roll back / hold /
 *       frozen. The caller passes the time, so an hour of traffic is a fast test.
 *   <li>{@link ai.distill.gateway.experiment.ExperimentJson} is the one JSON (de)serialiser
 *       (definitions, decisions, the API view, the persisted state); {@link
 *       ai.distill.gateway.experiment.ExperimentRepository} persists each experiment under {@code
 *       <store>/experiments/} (atomic writes, every 30 s when changed, on every decision and on
 *       close) so a restart resumes it with its counts. A file {@code
 *       <store>/experiments/<name>.json} holding a bare definition (the admin API's body) creates
 *       that experiment at start: experiments as configuration.
 *   <li>Failures are typed ({@link ai.distill.gateway.experiment.UnknownVariantException} 404,
 *       {@link ai.distill.gateway.experiment.ExperimentConflictException} 409) and mapped to
 *       statuses by the router's one {@code http.FailureHandler}.
 * </ul>
 *
 * <p>With the gateway running ({@code distill serve --store DIR --admin-token T}):
 *
 * <pre>
 * curl -XPOST localhost:8080/admin/v1/experiments -H 'Authorization: Bearer T' -d '{"name": "ctr-ab",
 *   "teacher": "ctr", "variants": [{"model": "ctr", "weight": 50}, {"model": "ctr-int8", "weight": 50}],
 *   "margin": 0.99, "shadow_rate": 0.1, "capture_rate": 0.05, "min_exposure": 1000, "auto": true}'
 * curl localhost:8080/v2/models/ctr-ab/infer -d '{"inputs": [...], "parameters": {"user_id": "u42"}}'
 *   # → "id": "...", "parameters": {"variant": "ctr-int8", "model_version": "1"}
 * curl localhost:8080/v1/feedback -d '{"id": "...", "clicks": [0, 1]}'
 * curl localhost:8080/v1/experiments/ctr-ab            # statistics, decisions and their numbers, history
 * curl -XPOST localhost:8080/admin/v1/experiments/ctr-ab/promote -H 'Authorization: Bearer T' -d '{"model": "ctr-int8"}'
 * </pre>
 *
 * Optional definition fields (defaults): {@code margin} 0.99, {@code shadow_rate} 0, {@code
 * capture_rate} 0, {@code min_exposure} 1000 users per arm, {@code attribution_window_seconds} 600,
 * {@code auto} true, {@code planned_users} 10000 (n* of the confidence sequence), {@code alpha}
 * 0.05, {@code salt} (the name), {@code max_p99_ratio} 1.10, {@code p99_tolerance_seconds} 0.0005,
 * {@code max_error_rate} 0.05 (absolute ceiling), {@code max_error_rate_delta} 0.01, {@code
 * latency_slo_seconds} 0.05, {@code guardrail_window_seconds} 60 (end-to-end latency shown only),
 * {@code guardrail_min_requests} 2000 (per arm per latency window), {@code
 * guardrail_latency_breaches} 3 (consecutive breaching windows). gateway/README.md explains each
 * decision for operators.
 */
package ai.distill.gateway.experiment;
