package ai.distill.gateway.http;

import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * Guards admin routes: requires {@code Authorization: Bearer <admin token>}. A missing token fails
 * with 401, a wrong one with 403. Tokens are compared in constant time: both sides are hashed with
 * SHA-256 and the digests compared with {@link MessageDigest#isEqual}, so neither the position of
 * the first wrong byte nor the token's length shows in the time taken. Never logs a token.
 * Thread-safe.
 */
public final class AdminAuth implements Handler<RoutingContext> {

  private final byte[] digest;

  public AdminAuth(String token) {
    this.digest = sha256(token);
  }

  /** True when {@code presented} is the token, in time independent of where they differ. */
  public boolean matches(String presented) {
    return MessageDigest.isEqual(digest, sha256(presented));
  }

  /** The token of an {@code Authorization} value: after {@code Bearer } when present, trimmed. */
  public static String bearerToken(String header) {
    return header.regionMatches(true, 0, "Bearer ", 0, 7)
        ? header.substring(7).trim()
        : header.trim();
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every JVM", e);
    }
  }

  @Override
  public void handle(RoutingContext ctx) {
    String header = ctx.request().getHeader(HttpHeaders.AUTHORIZATION);
    if (header == null || header.isBlank()) {
      ctx.fail(
          new HttpStatusException(
              401,
              "admin endpoint: send the admin token as "
                  + "'Authorization: Bearer <token>' (see --admin-token, DISTILL_ADMIN_TOKEN or <store>/admin.token)"));
      return;
    }
    if (!matches(bearerToken(header))) {
      ctx.fail(
          new HttpStatusException(
              403,
              "admin token is wrong: use the gateway's admin token "
                  + "(--admin-token, DISTILL_ADMIN_TOKEN or <store>/admin.token)"));
      return;
    }
    ctx.next();
  }
}
