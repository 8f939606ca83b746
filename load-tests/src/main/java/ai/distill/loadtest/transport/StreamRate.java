package ai.distill.loadtest.transport;

/**
 * What a streaming driver measured: rows answered within the measurement interval, its length, and
 * error answers (error lines or {@code error_message} responses).
 */
public record StreamRate(String transport, long rows, double seconds, long errors) {

  public double rowsPerSecond() {
    return rows / seconds;
  }
}
