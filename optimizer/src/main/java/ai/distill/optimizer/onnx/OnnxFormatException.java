package ai.distill.optimizer.onnx;

/**
 * Thrown when bytes or a file are not a usable ONNX model (not a protobuf, no graph, missing IR
 * version). The message names the source and says what is wrong.
 */
public final class OnnxFormatException extends RuntimeException {

  public OnnxFormatException(String message) {
    super(message);
  }

  public OnnxFormatException(String message, Throwable cause) {
    super(message, cause);
  }
}
