package ai.distill.gateway.feedback;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResponseIdSignerTest {

  private static final byte[] KEY = "0123456789abcdef-shared".getBytes(StandardCharsets.UTF_8);

  @TempDir Path dir;

  private static SignedResponseId response(long expires) {
    return new SignedResponseId("ab", 1, "ctr-int8", 3, "u42", 2, 1_000, expires, 77);
  }

  @Test
  void a_signed_id_describes_its_response_to_another_signer_with_the_same_key() {
    String id = new ResponseIdSigner(KEY).sign(response(5_000));
    assertTrue(id.startsWith(ResponseIdSigner.PREFIX), id);
    assertEquals(response(5_000), new ResponseIdSigner(KEY.clone()).verify(id));
  }

  @Test
  void an_altered_payload_is_refused() {
    ResponseIdSigner signer = new ResponseIdSigner(KEY);
    String id = signer.sign(response(5_000));
    String[] parts = id.split("\\.");
    String json = new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8);
    String altered = json.replace("\"i\":1", "\"i\":0"); // credit the clicks to the other variant
    assertNotEquals(json, altered);
    String forged =
        parts[0]
            + "."
            + Base64.getUrlEncoder()
                .withoutPadding()
                .encodeToString(altered.getBytes(StandardCharsets.UTF_8))
            + "."
            + parts[2];
    InvalidResponseIdException e =
        assertThrows(InvalidResponseIdException.class, () -> signer.verify(forged));
    assertTrue(e.getMessage().contains("signature does not match"), e.getMessage());
  }

  @Test
  void ids_of_another_key_and_garbage_are_refused() {
    String id = new ResponseIdSigner(KEY).sign(response(5_000));
    ResponseIdSigner other = ResponseIdSigner.random();
    assertThrows(InvalidResponseIdException.class, () -> other.verify(id));
    assertThrows(InvalidResponseIdException.class, () -> other.verify("d1.!!!.???"));
    assertThrows(InvalidResponseIdException.class, () -> other.verify("d1."));
    assertThrows(InvalidResponseIdException.class, () -> other.verify("plain-client-id"));
  }

  @Test
  void feedback_for_an_id_served_by_another_instance_joins_once() {
    FeedbackService served = new FeedbackService(100, null, new ResponseIdSigner(KEY));
    FeedbackService other = new FeedbackService(100, null, new ResponseIdSigner(KEY));
    int[] seen = new int[1];
    other.addJoinListener((i, clicks) -> seen[0] += clicks[0] + clicks[1]);
    long now = System.currentTimeMillis();
    String id = served.responseId("ab", 1, "ctr-int8", 3, "u42", 2, now, now + 60_000);

    assertEquals(
        "invalid", other.feedback(id, new int[] {1}).label(), "one click per row is still checked");
    FeedbackOutcome.Joined joined =
        assertInstanceOf(FeedbackOutcome.Joined.class, other.feedback(id, new int[] {1, 1}));
    assertEquals(
        new Impression(id, "ab", 1, "ctr-int8", "u42", 2, now + 60_000), joined.impression());
    assertInstanceOf(FeedbackOutcome.Duplicate.class, other.feedback(id, new int[] {1, 1}));
    assertEquals(2, seen[0]);
  }

  @Test
  void feedback_for_an_expired_signed_id_is_expired_and_a_forged_one_throws() {
    FeedbackService service = new FeedbackService(100, null, new ResponseIdSigner(KEY));
    long now = System.currentTimeMillis();
    String old = service.responseId("ab", 0, "ctr", 1, null, 1, now - 20_000, now - 10_000);
    assertInstanceOf(FeedbackOutcome.Expired.class, service.feedback(old, new int[] {1}));
    String foreign =
        new FeedbackService(100, null, ResponseIdSigner.random())
            .responseId("ab", 0, "ctr", 1, null, 1, now, now + 10_000);
    assertThrows(InvalidResponseIdException.class, () -> service.feedback(foreign, new int[] {1}));
  }

  @Test
  void the_key_comes_from_the_config_then_the_environment_then_a_private_file_in_the_store()
      throws Exception {
    String id = FeedbackKeys.resolve(null, null, dir).sign(response(1));
    Path file = dir.resolve(FeedbackKeys.FILE);
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    assertEquals(
        response(1), FeedbackKeys.resolve(null, null, dir).verify(id), "the file is reused");

    String configured = "configured-key-of-enough-bytes";
    String fromConfig =
        FeedbackKeys.resolve(configured, "env-key-of-enough-bytes", dir).sign(response(1));
    assertEquals(
        response(1),
        new ResponseIdSigner(configured.getBytes(StandardCharsets.UTF_8)).verify(fromConfig));
    String fromEnv = FeedbackKeys.resolve(null, "env-key-of-enough-bytes", dir).sign(response(1));
    assertEquals(
        response(1),
        new ResponseIdSigner("env-key-of-enough-bytes".getBytes(StandardCharsets.UTF_8))
            .verify(fromEnv));

    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> FeedbackKeys.resolve("short", null, dir));
    assertEquals(
        "feedback_key: the feedback key has 5 bytes (expected: at least 16, e.g. the output of"
            + " `openssl rand -base64 32`)",
        e.getMessage());
  }
}
