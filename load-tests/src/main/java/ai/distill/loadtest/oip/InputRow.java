package ai.distill.loadtest.oip;

import java.util.Map;

/**
 * One row of model inputs, each flattened (row-major) to doubles, as the rows format (DESIGN.md)
 * holds it.
 */
public record InputRow(Map<String, double[]> inputs) {}
