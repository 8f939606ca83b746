package ai.distill.gateway.experiment;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * What an operator asks for when creating an experiment; immutable. {@link #fromJson} validates the
 * admin API's body (the model-level checks — loaded, same signature as the teacher, no name clash —
 * are the {@link ExperimentRegistry}'s) and throws {@link IllegalArgumentException} naming the field.
 *
 * @param margin                 m: a student must keep CTR ≥ m × teacher CTR (default 0.99)
 * @param shadowRate             share of student-served requests the teacher scores off the response path
 * @param captureRate            share of requests captured as rows
 * @param minExposure            exposed users each arm needs before a promotion
 * @param attributionWindowSeconds how long feedback for a response is accepted
 * @param plannedUsers           n* of the confidence sequence (default 10,000)
 * @param latencyTolerance       absolute slack (seconds) added to 1.10 × teacher p99, since sub-millisecond
 *                               p99s are dominated by scheduling noise (default 0.0005)
 * @param minWindowRequests      successful requests each arm needs in the guardrail window before its p99
 *                               is compared (default 1000: a p99 over fewer is mostly noise)
 * @param latencyBreaches        consecutive evaluations (one a second) a p99 breach must last before it
 *                               rolls back (default 3); an error-rate breach rolls back at once
 */
public record ExperimentDefinition(String name, String teacher, List<Variant> variants, double margin,
                                   double shadowRate, double captureRate, long minExposure,
                                   long attributionWindowSeconds, boolean auto, long plannedUsers, double alpha,
                                   String salt, double latencyRatio, double latencyTolerance, double maxErrorRate,
                                   long windowSeconds, long minWindowRequests, int latencyBreaches) {

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    /** One arm: a model, optionally pinned to a version (null = the model's serving version). */
    public record Variant(String model, Long version, double weight) {
        JsonObject toJson() {
            JsonObject o = new JsonObject().put("model", model).put("weight", weight);
            if (version != null) {
                o.put("version", String.valueOf(version));
            }
            return o;
        }
    }

    public ExperimentDefinition {
        variants = List.copyOf(variants);
    }

    /** Index of the teacher's variant. */
    public int teacherIndex() {
        for (int i = 0; i < variants.size(); i++) {
            if (variants.get(i).model().equals(teacher)) {
                return i;
            }
        }
        throw new IllegalStateException("teacher not among variants");
    }

    public double[] weights() {
        double[] w = new double[variants.size()];
        for (int i = 0; i < w.length; i++) {
            w[i] = variants.get(i).weight();
        }
        return w;
    }

    public static ExperimentDefinition fromJson(JsonObject body) {
        if (body == null) {
            throw new IllegalArgumentException("body: expected a JSON object like {\"name\": \"ctr-ab\", \"teacher\": \"ctr\", "
                    + "\"variants\": [{\"model\": \"ctr\", \"weight\": 50}, {\"model\": \"ctr-int8\", \"weight\": 50}]}");
        }
        String name = string(body, "name");
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("name: '" + name + "' (expected: letters, digits, '.', '_' or '-', "
                    + "starting with a letter or digit, at most 128 characters)");
        }
        String teacher = string(body, "teacher");
        Object rawVariants = body.getValue("variants");
        if (!(rawVariants instanceof JsonArray array) || array.size() < 2) {
            throw new IllegalArgumentException("variants: expected an array of at least two {\"model\", \"weight\"} "
                    + "objects (the teacher and one or more students)");
        }
        List<Variant> variants = new ArrayList<>();
        double total = 0;
        for (int i = 0; i < array.size(); i++) {
            if (!(array.getValue(i) instanceof JsonObject v)) {
                throw new IllegalArgumentException("variants[" + i + "]: expected an object {\"model\", \"weight\"}");
            }
            String model = string(v, "model");
            double weight = number(v, "weight", Double.NaN, "variants[" + i + "].weight");
            if (!(weight >= 0) || Double.isInfinite(weight)) {
                throw new IllegalArgumentException("variants[" + i + "].weight: " + v.getValue("weight")
                        + " (expected: a finite number >= 0)");
            }
            Long version = null;
            Object rawVersion = v.getValue("version");
            if (rawVersion != null) {
                try {
                    version = Long.parseLong(String.valueOf(rawVersion));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("variants[" + i + "].version: '" + rawVersion
                            + "' (expected: a version number such as 3)");
                }
            }
            for (Variant other : variants) {
                if (other.model().equals(model)) {
                    throw new IllegalArgumentException("variants[" + i + "].model: '" + model
                            + "' appears twice (expected: each model once)");
                }
            }
            variants.add(new Variant(model, version, weight));
            total += weight;
        }
        if (!(total > 0)) {
            throw new IllegalArgumentException("variants: weights sum to " + total + " (expected: a positive total)");
        }
        if (variants.stream().noneMatch(v -> v.model().equals(teacher))) {
            throw new IllegalArgumentException("teacher: '" + teacher + "' is not one of the variants (expected: "
                    + "one of the variants' models)");
        }
        double margin = number(body, "margin", 0.99, "margin");
        check(margin > 0 && margin <= 1.5, "margin", margin, "0 < margin <= 1.5");
        double shadow = number(body, "shadow_rate", 0.0, "shadow_rate");
        check(shadow >= 0 && shadow <= 1, "shadow_rate", shadow, "0 <= shadow_rate <= 1");
        double capture = number(body, "capture_rate", 0.0, "capture_rate");
        check(capture >= 0 && capture <= 1, "capture_rate", capture, "0 <= capture_rate <= 1");
        long minExposure = (long) number(body, "min_exposure", 1000, "min_exposure");
        check(minExposure >= 0, "min_exposure", minExposure, ">= 0");
        long window = (long) number(body, "attribution_window_seconds", 600, "attribution_window_seconds");
        check(window > 0, "attribution_window_seconds", window, "> 0");
        Object auto = body.getValue("auto", Boolean.TRUE);
        if (!(auto instanceof Boolean)) {
            throw new IllegalArgumentException("auto: " + auto + " (expected: true or false)");
        }
        long planned = (long) number(body, "planned_users", 10_000, "planned_users");
        check(planned > 0, "planned_users", planned, "> 0");
        double alpha = number(body, "alpha", 0.05, "alpha");
        check(alpha > 0 && alpha < 0.5, "alpha", alpha, "0 < alpha < 0.5");
        Object salt = body.getValue("salt", name);
        double latencyRatio = number(body, "max_p99_ratio", 1.10, "max_p99_ratio");
        check(latencyRatio >= 1, "max_p99_ratio", latencyRatio, ">= 1");
        double tolerance = number(body, "p99_tolerance_seconds", 0.0005, "p99_tolerance_seconds");
        check(tolerance >= 0, "p99_tolerance_seconds", tolerance, ">= 0");
        double maxErrorRate = number(body, "max_error_rate", 0.01, "max_error_rate");
        check(maxErrorRate >= 0 && maxErrorRate <= 1, "max_error_rate", maxErrorRate, "0 <= max_error_rate <= 1");
        long windowSeconds = (long) number(body, "guardrail_window_seconds", 60, "guardrail_window_seconds");
        check(windowSeconds > 0, "guardrail_window_seconds", windowSeconds, "> 0");
        long minRequests = (long) number(body, "guardrail_min_requests", 1000, "guardrail_min_requests");
        check(minRequests > 0, "guardrail_min_requests", minRequests, "> 0");
        long breaches = (long) number(body, "guardrail_latency_breaches", 3, "guardrail_latency_breaches");
        check(breaches >= 1 && breaches <= 1000, "guardrail_latency_breaches", breaches, "1..1000");
        return new ExperimentDefinition(name, teacher, variants, margin, shadow, capture, minExposure, window,
                (Boolean) auto, planned, alpha, String.valueOf(salt), latencyRatio, tolerance, maxErrorRate,
                windowSeconds, minRequests, (int) breaches);
    }

    public JsonObject toJson() {
        JsonArray vs = new JsonArray();
        variants.forEach(v -> vs.add(v.toJson()));
        return new JsonObject()
                .put("name", name).put("teacher", teacher).put("variants", vs)
                .put("margin", margin).put("shadow_rate", shadowRate).put("capture_rate", captureRate)
                .put("min_exposure", minExposure).put("attribution_window_seconds", attributionWindowSeconds)
                .put("auto", auto).put("planned_users", plannedUsers).put("alpha", alpha).put("salt", salt)
                .put("max_p99_ratio", latencyRatio).put("p99_tolerance_seconds", latencyTolerance)
                .put("max_error_rate", maxErrorRate).put("guardrail_window_seconds", windowSeconds)
                .put("guardrail_min_requests", minWindowRequests)
                .put("guardrail_latency_breaches", latencyBreaches);
    }

    private static String string(JsonObject o, String field) {
        Object v = o.getValue(field);
        if (!(v instanceof String s) || s.isBlank()) {
            throw new IllegalArgumentException(field + ": " + (v == null ? "missing" : v) + " (expected: a non-empty string)");
        }
        return s;
    }

    private static double number(JsonObject o, String field, double fallback, String label) {
        Object v = o.getValue(field);
        if (v == null) {
            if (Double.isNaN(fallback)) {
                throw new IllegalArgumentException(label + ": missing (expected: a number)");
            }
            return fallback;
        }
        if (!(v instanceof Number n)) {
            throw new IllegalArgumentException(label + ": " + v + " (expected: a number)");
        }
        return n.doubleValue();
    }

    private static void check(boolean ok, String field, double value, String expected) {
        if (!ok) {
            throw new IllegalArgumentException(field + ": " + value + " (expected: " + expected + ")");
        }
    }
}
