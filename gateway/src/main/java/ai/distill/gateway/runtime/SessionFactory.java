package ai.distill.gateway.runtime;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtSession.SessionOptions;
import java.nio.file.Path;

/**
 * Creates ORT sessions with the gateway's {@link SessionConfig} in the process's single {@link
 * OrtEnvironment}. Thread-safe. Callers own (and close) the sessions it creates; the factory owns
 * its {@link SessionOptions} and closes them in {@link #close()}.
 */
public final class SessionFactory implements AutoCloseable {

  private final OrtEnvironment env = OrtEnvironment.getEnvironment();
  private final SessionOptions options;
  private final SessionConfig config;

  public SessionFactory(SessionConfig config) {
    this.config = config;
    try {
      options = new SessionOptions();
      options.setIntraOpNumThreads(config.intraOpThreads());
      options.setInterOpNumThreads(1);
      options.setExecutionMode(SessionOptions.ExecutionMode.SEQUENTIAL);
      options.setOptimizationLevel(config.optimizationLevel());
    } catch (OrtException e) {
      throw new IllegalStateException(
          "cannot configure ONNX Runtime session options " + config + ": " + e.getMessage(), e);
    }
  }

  public OrtEnvironment environment() {
    return env;
  }

  public SessionConfig config() {
    return config;
  }

  /** Opens {@code modelFile}; the caller closes the session. */
  public OrtSession open(Path modelFile) throws OrtException {
    return env.createSession(modelFile.toString(), options);
  }

  @Override
  public void close() {
    options.close();
  }
}
