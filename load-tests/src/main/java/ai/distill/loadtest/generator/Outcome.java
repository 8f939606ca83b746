package ai.distill.loadtest.generator;

import io.vertx.core.buffer.Buffer;

/**
 * How one request ended: an HTTP status (0 when there was no response) or a transport error kind,
 * the time it actually went on a connection and the time its response was complete ({@link
 * System#nanoTime()}), and the body when the sender was asked to keep it.
 */
public record Outcome(int status, String error, long sentNanos, long doneNanos, Buffer body) {

  public static Outcome response(int status, long sentNanos, long doneNanos, Buffer body) {
    return new Outcome(status, null, sentNanos, doneNanos, body);
  }

  public static Outcome failure(String error, long sentNanos, long doneNanos) {
    return new Outcome(0, error, sentNanos, doneNanos, null);
  }

  public boolean ok() {
    return status >= 200 && status < 300;
  }

  /** The key errors are counted under: the status code, or the transport error kind. */
  public String key() {
    return status > 0 ? Integer.toString(status) : error;
  }
}
