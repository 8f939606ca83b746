package ai.distill.gateway.runtime;

import ai.onnxruntime.OrtException;

/**
 * ONNX Runtime refused to run a request. {@link #invalidInput()} is true when ORT blamed the input
 * (for example an embedding id outside its table), which the HTTP layer answers with 400; anything
 * else is a server-side failure (500).
 */
public final class ModelRunException extends RuntimeException {

  private final boolean invalidInput;

  public ModelRunException(String model, OrtException cause) {
    super(describe(model, cause), cause);
    this.invalidInput = cause.getCode() == OrtException.OrtErrorCode.ORT_INVALID_ARGUMENT;
  }

  private static String describe(String model, OrtException cause) {
    String message = cause.getMessage() == null ? cause.toString() : cause.getMessage();
    return cause.getCode() == OrtException.OrtErrorCode.ORT_INVALID_ARGUMENT
        ? "model "
            + model
            + " rejected the input: "
            + message
            + " (check that the values are within the ranges the model accepts, e.g. embedding ids)"
        : "model " + model + " failed to run: " + message;
  }

  /** True when ORT reported an invalid argument (the client's input). */
  public boolean invalidInput() {
    return invalidInput;
  }
}
