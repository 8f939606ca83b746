package ai.distill.gateway.experiment;

import java.util.ArrayList;
import java.util.List;

/** Finds the student a manual decision names (or the only active one). Stateless. */
final class StudentLookup {

  private StudentLookup() {}

  /**
   * The index of student {@code model}, or of the only student with weight when {@code model} is
   * null.
   */
  static int index(ExperimentDefinition definition, double[] weights, String model) {
    int teacher = definition.teacherIndex();
    if (model == null) {
      int found = -1;
      for (int i = 0; i < definition.variants().size(); i++) {
        if (i != teacher && weights[i] > 0) {
          if (found >= 0) {
            throw new IllegalArgumentException(
                "model: missing (expected: which student, one of " + names(definition) + ")");
          }
          found = i;
        }
      }
      if (found < 0) {
        throw new ExperimentConflictException(
            "experiment '" + definition.name() + "' has no active student");
      }
      return found;
    }
    for (int i = 0; i < definition.variants().size(); i++) {
      if (definition.variants().get(i).model().equals(model)) {
        if (i == teacher) {
          throw new IllegalArgumentException(
              "model: '"
                  + model
                  + "' is the teacher (expected: a student, one of "
                  + names(definition)
                  + ")");
        }
        return i;
      }
    }
    throw new UnknownVariantException(
        "experiment '"
            + definition.name()
            + "' has no variant '"
            + model
            + "' (expected: one of "
            + names(definition)
            + ")");
  }

  /** The index of variant {@code model}, or -1. */
  static int indexOfModel(ExperimentDefinition definition, String model) {
    for (int i = 0; i < definition.variants().size(); i++) {
      if (definition.variants().get(i).model().equals(model)) {
        return i;
      }
    }
    return -1;
  }

  private static List<String> names(ExperimentDefinition definition) {
    List<String> names = new ArrayList<>();
    for (int i = 0; i < definition.variants().size(); i++) {
      if (i != definition.teacherIndex()) {
        names.add(definition.variants().get(i).model());
      }
    }
    return names;
  }
}
