package ai.distill.optimizer.distill;

/**
 * The teacher's signature is one a student cannot mirror; the message says why and what is
 * supported.
 */
public final class UnsupportedTeacherException extends IllegalArgumentException {

  private static final long serialVersionUID = 1L;

  public UnsupportedTeacherException(String message) {
    super(message);
  }
}
