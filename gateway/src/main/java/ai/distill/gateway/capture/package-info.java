/**
 * Traffic capture, an observer of served requests ({@link
 * ai.distill.gateway.capture.CaptureService}, {@link ai.distill.gateway.capture.CaptureRoutes}): a
 * sampled share of requests written through the store's {@code RowsWriter} as rows (the rows format
 * of DESIGN.md plus {@code ts, model, variant, version, outputs, teacher_outputs, id, row}) to
 * rotated, size-bounded segments {@code
 * <store>/captures/<experiment-or-model>/segment-<seq>.jsonl}.
 *
 * <p>Labels: a captured record that can still receive click feedback waits in {@link
 * ai.distill.gateway.capture.TrafficCapture} (bounded) until its feedback arrives (written with
 * {@code label}) or its attribution window closes (written without); every row line is therefore
 * complete and no later join line exists. {@link ai.distill.gateway.capture.CaptureWriter} owns one
 * writer thread fed by a bounded queue: a full queue or a failing disk drops records (counted in
 * {@code distill_capture_dropped_total}) and never blocks or fails a request. Each run starts a new
 * segment, so a crash leaves at most a torn last line, which the store's {@code RowsReader} skips.
 *
 * <p>Rates: per experiment ({@code capture_rate} in its definition) and per plain model ({@code
 * POST /admin/v1/capture {"model": "ctr", "rate": 0.05}}, listed at {@code GET /v1/capture}).
 */
package ai.distill.gateway.capture;
