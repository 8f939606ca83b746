package ai.distill.gateway.tensor;

import java.util.Objects;

/**
 * One entry of a request's {@code outputs}: the output to return and whether to return it as binary
 * tensor data. {@code binary} is already resolved: the output's {@code parameters.binary_data} when
 * given, otherwise the request's {@code parameters.binary_data_output}.
 */
public record RequestedOutput(String name, boolean binary) {

  public RequestedOutput {
    Objects.requireNonNull(name, "name");
  }
}
