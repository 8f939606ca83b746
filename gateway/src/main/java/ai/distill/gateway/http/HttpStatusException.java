package ai.distill.gateway.http;

/** A request the HTTP layer refuses with a given status and a message saying what to change. */
public final class HttpStatusException extends RuntimeException {

  private final int status;

  public HttpStatusException(int status, String message) {
    super(message, null, false, false);
    this.status = status;
  }

  public int status() {
    return status;
  }
}
