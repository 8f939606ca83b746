package ai.distill.store;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/**
 * The role of a model in the store: the reference {@code teacher} or a compressed {@code student}.
 * Serialised lowercase.
 */
public enum Role {
  TEACHER,
  STUDENT;

  /** The lowercase JSON and command-line form ({@code "teacher"}, {@code "student"}). */
  @JsonValue
  public String jsonName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * Parses {@code teacher} or {@code student}, case-insensitively.
   *
   * @throws IllegalArgumentException naming the accepted values
   */
  @JsonCreator
  public static Role parse(String text) {
    if (text != null) {
      for (Role r : values()) {
        if (r.name().equalsIgnoreCase(text.trim())) {
          return r;
        }
      }
    }
    throw new IllegalArgumentException("role : " + text + " (expected: teacher or student)");
  }

  @Override
  public String toString() {
    return jsonName();
  }
}
