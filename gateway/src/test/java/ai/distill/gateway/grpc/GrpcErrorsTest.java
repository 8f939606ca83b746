package ai.distill.gateway.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.distill.gateway.batching.BatcherClosedException;
import ai.distill.gateway.batching.QueueFullException;
import ai.distill.gateway.protocol.BadInputException;
import ai.distill.gateway.runtime.ModelFaultException;
import ai.distill.gateway.runtime.ModelFaultException.Kind;
import ai.distill.gateway.runtime.ModelUnavailableException;
import ai.distill.gateway.runtime.UnknownModelException;
import io.vertx.grpc.common.GrpcStatus;
import org.junit.jupiter.api.Test;

/** The gRPC status of every failure the pipeline produces, as the HTTP status maps it. */
class GrpcErrorsTest {

  @Test
  void model_faults_map_to_their_grpc_meaning() {
    assertEquals(
        GrpcStatus.DEADLINE_EXCEEDED,
        GrpcErrors.status(new ModelFaultException(Kind.TIMEOUT, "model m did not answer", 1)));
    assertEquals(
        GrpcStatus.UNAVAILABLE,
        GrpcErrors.status(new ModelFaultException(Kind.CIRCUIT_OPEN, "circuit open", 5)));
    ModelFaultException bad = new ModelFaultException(Kind.BAD_OUTPUT, "model m produced NaN", 1);
    assertEquals(GrpcStatus.INTERNAL, GrpcErrors.status(bad));
    assertEquals("bad model output: model m produced NaN", GrpcErrors.message(bad));
  }

  @Test
  void client_errors_and_overload_map_to_their_grpc_meaning() {
    assertEquals(GrpcStatus.INVALID_ARGUMENT, GrpcErrors.status(new BadInputException("bad")));
    assertEquals(GrpcStatus.NOT_FOUND, GrpcErrors.status(new UnknownModelException("no m")));
    assertEquals(
        GrpcStatus.RESOURCE_EXHAUSTED, GrpcErrors.status(new QueueFullException("full", 1)));
    assertEquals(
        GrpcStatus.RESOURCE_EXHAUSTED, GrpcErrors.status(new BadInputException(413, "too big")));
    assertEquals(
        GrpcStatus.UNAVAILABLE, GrpcErrors.status(new ModelUnavailableException("not ready")));
    assertEquals(GrpcStatus.UNAVAILABLE, GrpcErrors.status(new BatcherClosedException("m")));
  }

  @Test
  void unexpected_failures_are_internal_and_say_so() {
    IllegalStateException bug = new IllegalStateException("broken invariant");
    assertEquals(GrpcStatus.INTERNAL, GrpcErrors.status(bug));
    assertEquals("internal error: broken invariant", GrpcErrors.message(bug));
    assertEquals("not ready", GrpcErrors.message(new ModelUnavailableException("not ready")));
  }
}
