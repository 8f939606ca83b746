package ai.distill.gateway.experiment;

/**
 * What a definition is checked against before it becomes an experiment: its name is no model's,
 * every variant is loaded and has the teacher's signature. Stateless.
 */
final class ExperimentChecks {

  private ExperimentChecks() {}

  /**
   * @throws ExperimentConflictException when the name is a model's
   * @throws IllegalArgumentException naming the variant that is not loaded or does not fit
   */
  static void check(VariantInvoker invoker, ExperimentDefinition def) {
    if (invoker.isModel(def.name())) {
      throw new ExperimentConflictException(
          "name: '"
              + def.name()
              + "' is already a model (expected: a name "
              + "that no model uses, since experiments are served at /v2/models/{name}/infer)");
    }
    ExperimentDefinition.Variant teacher = def.variants().get(def.teacherIndex());
    VariantInvoker.Signature reference = invoker.signature(teacher.model(), teacher.version());
    if (reference == null) {
      throw new IllegalArgumentException(
          "teacher: model '"
              + teacher.model()
              + "'"
              + (teacher.version() == null ? "" : " version " + teacher.version())
              + " is not loaded (expected: a loaded model; load it first)");
    }
    for (int i = 0; i < def.variants().size(); i++) {
      ExperimentDefinition.Variant v = def.variants().get(i);
      VariantInvoker.Signature s = invoker.signature(v.model(), v.version());
      if (s == null) {
        throw new IllegalArgumentException(
            "variants["
                + i
                + "].model: '"
                + v.model()
                + "'"
                + (v.version() == null ? "" : " version " + v.version())
                + " is not loaded (expected: a loaded model; load it first)");
      }
      if (!s.equals(reference)) {
        throw new IllegalArgumentException(
            "variants["
                + i
                + "].model: '"
                + v.model()
                + "' has signature "
                + describe(s)
                + " (expected: the teacher's "
                + describe(reference)
                + ")");
      }
    }
  }

  private static String describe(VariantInvoker.Signature s) {
    return "inputs " + s.inputs() + ", outputs " + s.outputs();
  }
}
