package ai.distill.gateway.http;

import ai.distill.gateway.openapi.OipSchemaValidator;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;

/**
 * Validates gateway responses against the OIP REST spec ({@code ../shared/specs/open_inference_rest.yaml})
 * when it is present; without it (no {@code distill.shared.dir}) the checks are no-ops and
 * {@link OipSpecTest} reports the skip.
 */
final class OipSchemaAssertions {

  private static final OipSchemaValidator VALIDATOR = load();

  private OipSchemaAssertions() {}

  private static OipSchemaValidator load() {
    Path spec = OipSchemaValidator.specPath();
    return spec == null ? null : OipSchemaValidator.load(spec);
  }

  static void assertValid(String schema, JsonObject body) {
    if (VALIDATOR != null) {
      VALIDATOR.assertValid(schema, body.encode());
    }
  }

  static void assertValidInferResponse(JsonObject body) {
    assertValid("inference_response", body);
  }

  static void assertValidInferResponse(Buffer body, Integer headerLength) {
    if (VALIDATOR != null) {
      VALIDATOR.assertValidInferenceResponse(body, headerLength);
    }
  }
}
