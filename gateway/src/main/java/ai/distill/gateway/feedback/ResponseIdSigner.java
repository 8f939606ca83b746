package ai.distill.gateway.feedback;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Makes and checks self-describing response ids: {@code d1.<payload>.<signature>}, the payload a
 * base64url JSON {@link SignedResponseId}, the signature HMAC-SHA256 of {@code d1.<payload>} under
 * a key every instance shares. Any instance with the key can attribute feedback to such an id; an
 * altered or forged one fails {@link #verify} with {@link InvalidResponseIdException}. Thread-safe
 * (a {@link Mac} per thread).
 *
 * <pre>{@code
 * ResponseIdSigner signer = new ResponseIdSigner(key);
 * String id = signer.sign(new SignedResponseId("ctr-ab", 1, "ctr-int8", 3, "u42", 5, now, now + 600_000, nonce));
 * SignedResponseId back = signer.verify(id);
 * }</pre>
 */
public final class ResponseIdSigner {

  /** Prefix of every id this class makes (format 1). */
  public static final String PREFIX = "d1.";

  /** Keys shorter than this are refused. */
  public static final int MIN_KEY_BYTES = 16;

  private static final String ALGORITHM = "HmacSHA256";
  private static final int MAX_ID_CHARS = 4096;
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder B64D = Base64.getUrlDecoder();
  private static final SecureRandom RANDOM = new SecureRandom();

  private final SecretKeySpec key;
  private final ThreadLocal<Mac> macs;

  public ResponseIdSigner(byte[] key) {
    if (key == null || key.length < MIN_KEY_BYTES) {
      throw new IllegalArgumentException(
          "feedback key : "
              + (key == null ? "missing" : key.length + " bytes")
              + " (expected: at least "
              + MIN_KEY_BYTES
              + " bytes)");
    }
    this.key = new SecretKeySpec(key.clone(), ALGORITHM);
    this.macs = ThreadLocal.withInitial(this::newMac);
  }

  /** A signer with a random key (ids it makes are valid only for itself). */
  public static ResponseIdSigner random() {
    byte[] k = new byte[32];
    RANDOM.nextBytes(k);
    return new ResponseIdSigner(k);
  }

  /** A random nonce for {@link SignedResponseId#nonce}. */
  public static long nonce() {
    return RANDOM.nextLong();
  }

  /** Whether {@code id} claims to be an id made by a signer (whatever its key). */
  public static boolean looksSigned(String id) {
    return id != null && id.startsWith(PREFIX);
  }

  /** The signed id for a response. */
  public String sign(SignedResponseId r) {
    JsonObject p =
        new JsonObject()
            .put("e", r.experiment())
            .put("i", r.variant())
            .put("m", r.model())
            .put("v", r.version())
            .put("u", r.userId())
            .put("r", r.rows())
            .put("t", r.servedAtMillis())
            .put("x", r.expiresAtMillis())
            .put("n", r.nonce());
    String head = PREFIX + B64.encodeToString(p.encode().getBytes(StandardCharsets.UTF_8));
    return head + "." + B64.encodeToString(mac(head));
  }

  /**
   * The response an id stands for; throws {@link InvalidResponseIdException} when the id is not
   * well formed or its signature does not match (forged, altered or made with another key).
   */
  public SignedResponseId verify(String id) {
    if (!looksSigned(id) || id.length() > MAX_ID_CHARS) {
      throw invalid(id, "not a gateway-made id");
    }
    int dot = id.lastIndexOf('.');
    if (dot <= PREFIX.length()) {
      throw invalid(id, "no signature");
    }
    String head = id.substring(0, dot);
    byte[] signature;
    byte[] payload;
    try {
      signature = B64D.decode(id.substring(dot + 1));
      payload = B64D.decode(head.substring(PREFIX.length()));
    } catch (IllegalArgumentException e) {
      throw invalid(id, "not base64url");
    }
    if (!MessageDigest.isEqual(signature, mac(head))) {
      throw invalid(
          id, "its signature does not match (altered, forged, or signed with another key)");
    }
    try {
      JsonObject p = new JsonObject(new String(payload, StandardCharsets.UTF_8));
      return new SignedResponseId(
          p.getString("e"),
          p.getInteger("i"),
          p.getString("m"),
          p.getLong("v"),
          p.getString("u"),
          p.getInteger("r"),
          p.getLong("t"),
          p.getLong("x"),
          p.getLong("n"));
    } catch (DecodeException | ClassCastException | NullPointerException e) {
      throw invalid(id, "its payload is not a response description");
    }
  }

  private static InvalidResponseIdException invalid(String id, String why) {
    String shown = id == null ? "null" : id.length() > 80 ? id.substring(0, 80) + "..." : id;
    return new InvalidResponseIdException(
        "id: '"
            + shown
            + "' is refused: "
            + why
            + " (expected: the 'id' of an inference response, unchanged)");
  }

  private byte[] mac(String head) {
    Mac mac = macs.get();
    return mac.doFinal(head.getBytes(StandardCharsets.US_ASCII));
  }

  private Mac newMac() {
    try {
      Mac mac = Mac.getInstance(ALGORITHM);
      mac.init(key);
      return mac;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HMAC-SHA256 is not available: " + e.getMessage(), e);
    }
  }
}
