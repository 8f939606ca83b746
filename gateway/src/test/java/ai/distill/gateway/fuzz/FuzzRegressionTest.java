package ai.distill.gateway.fuzz;

import io.vertx.core.http.HttpMethod;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Counterexamples the fuzz suite found, kept as plain regression tests. */
class FuzzRegressionTest {

  private static void check(Hostile h) {
    HostileRequestsFuzzTest.check(h);
  }

  @Test
  void a_duplicate_outputs_key_of_another_type_is_refused() {
    check(
        Hostile.post(
                "infer-json/top",
                "/v2/models/ctr/infer",
                HostileRequests.VALID_INFER.substring(0, HostileRequests.VALID_INFER.length() - 1)
                    + ",\"outputs2\":0,\"outputs\":true}")
            .maybeValid());
  }

  @Test
  void a_dot_segment_in_an_experiment_path_names_the_list_not_an_experiment() {
    FuzzGateway.Answer a =
        FuzzGateway.get().sendHostile(HttpMethod.GET, "/v1/experiments/.", Map.of(), null);
    org.junit.jupiter.api.Assertions.assertEquals(200, a.status(), a.toString());
    org.junit.jupiter.api.Assertions.assertTrue(
        a.body().toJsonObject().containsKey("experiments"), a.toString());
  }

  @Test
  void a_long_experiment_name_is_404() {
    check(
        new Hostile(
            "experiments/read",
            HttpMethod.GET,
            "/v1/experiments/" + "W".repeat(316),
            Map.of(),
            null,
            true));
  }

  @Test
  void a_binary_size_larger_than_the_tensor_is_refused() {
    String json =
        "{\"inputs\":[{\"name\":\"dense\",\"datatype\":\"FP32\",\"shape\":[2,3],\"parameters\":"
            + "{\"binary_data_size\":28}},{\"name\":\"sparse\",\"datatype\":\"INT64\",\"shape\":[2,2],"
            + "\"data\":[1,9,0,3]}]}";
    byte[] head = json.getBytes(StandardCharsets.UTF_8);
    byte[] body = new byte[head.length + 28];
    System.arraycopy(head, 0, body, 0, head.length);
    check(
        new Hostile(
            "infer-binary",
            HttpMethod.POST,
            "/v2/models/ab/infer",
            Map.of(
                "Content-Type",
                "application/octet-stream",
                "Inference-Header-Content-Length",
                Integer.toString(head.length)),
            body,
            true));
  }

  @Test
  void feedback_for_an_unknown_id_with_slashes_is_404() {
    check(
        Hostile.post("feedback/id", "/v1/feedback", "{\"id\":\"/a.0/%/a\\\\%\",\"clicks\":[1,0]}"));
  }

  @Test
  void an_oversized_admin_body_is_413() {
    check(
        Hostile.admin(
            "transport/body",
            HttpMethod.POST,
            "/admin/v1/experiments",
            "{\"inputs\":[" + " ".repeat(FuzzGateway.MAX_BODY_BYTES + 100) + "]}"));
  }

  @Test
  void an_optimize_request_with_string_options_is_refused() {
    check(
        Hostile.admin(
            "admin/optimize",
            HttpMethod.POST,
            "/admin/v1/optimize",
            "{\"source\":\"ctr\",\"action\":\"explode\",\"name\":\"ctr-fz\",\"rows\":\"capture\","
                + "\"options\":\"ctr\u202e\"}"));
  }
}
