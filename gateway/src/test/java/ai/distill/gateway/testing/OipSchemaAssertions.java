package ai.distill.gateway.testing;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;

/**
 * Validates gateway responses against the OIP REST spec ({@code
 * ../shared/specs/open_inference_rest.yaml}) when it is present; without it (no {@code
 * distill.shared.dir}) the checks are no-ops and {@code http.OipSpecTest} reports the skip.
 */
public final class OipSchemaAssertions {

  private static final OipSchemaValidator VALIDATOR = load();

  private OipSchemaAssertions() {}

  private static OipSchemaValidator load() {
    Path spec = OipSchemaValidator.specPath();
    return spec == null ? null : OipSchemaValidator.load(spec);
  }

  public static void assertValid(String schema, JsonObject body) {
    if (VALIDATOR != null) {
      VALIDATOR.assertValid(schema, body.encode());
    }
  }

  public static void assertValidInferResponse(JsonObject body) {
    assertValid("inference_response", body);
  }

  public static void assertValidInferResponse(Buffer body, Integer headerLength) {
    if (VALIDATOR != null) {
      VALIDATOR.assertValidInferenceResponse(body, headerLength);
    }
  }
}
