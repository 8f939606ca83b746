package ai.distill.gateway.http;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.vertx.core.json.JsonObject;

/** Validates gateway responses against the OIP REST spec (../shared/specs/open_inference_rest.yaml). */
final class OipSchemaAssertions {

  private OipSchemaAssertions() {}

  static void assertValidInferResponse(JsonObject body) {
    assertNotNull(body.getString("model_name"));
    assertNotNull(body.getJsonArray("outputs"));
  }
}
