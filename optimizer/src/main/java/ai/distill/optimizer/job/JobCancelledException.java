package ai.distill.optimizer.job;

/** A job stopped because its {@link ProgressListener} asked it to; nothing was published. */
public final class JobCancelledException extends RuntimeException {

  private final String stage;

  public JobCancelledException(String stage) {
    super("cancelled during " + stage + "; nothing was published");
    this.stage = stage;
  }

  /** The stage the job was in when it stopped. */
  public String stage() {
    return stage;
  }
}
