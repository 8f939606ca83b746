package ai.distill.gateway.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.distill.gateway.experiment.ExperimentConflictException;
import ai.distill.gateway.experiment.UnknownVariantException;
import ai.distill.gateway.feedback.AmbiguousResponseException;
import ai.distill.gateway.feedback.FeedbackExpiredException;
import ai.distill.gateway.feedback.UnknownResponseException;
import org.junit.jupiter.api.Test;

class FailureHandlerTest {

  @Test
  void experiment_and_feedback_failures_map_to_their_statuses() {
    assertEquals(404, FailureHandler.status(new UnknownVariantException("no experiment 'x'")));
    assertEquals(409, FailureHandler.status(new ExperimentConflictException("already exists")));
    assertEquals(404, FailureHandler.status(new UnknownResponseException("unknown id")));
    assertEquals(409, FailureHandler.status(new AmbiguousResponseException("reused id")));
    assertEquals(410, FailureHandler.status(new FeedbackExpiredException("too late")));
    assertEquals(
        400, FailureHandler.status(new IllegalArgumentException("clicks: expected 3 values")));
  }

  @Test
  void a_broken_invariant_is_an_internal_error_not_a_conflict() {
    assertEquals(
        500, FailureHandler.status(new IllegalStateException("teacher not among variants")));
  }
}
