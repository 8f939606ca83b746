package ai.distill.gateway.http;

import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * Guards admin routes: requires {@code Authorization: Bearer <admin token>}. A missing token fails
 * with 401, a wrong one with 403; tokens are compared in constant time. Thread-safe.
 */
public final class AdminAuth implements Handler<RoutingContext> {

  private final byte[] token;

  public AdminAuth(String token) {
    this.token = token.getBytes(StandardCharsets.UTF_8);
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
    String presented =
        header.regionMatches(true, 0, "Bearer ", 0, 7) ? header.substring(7).trim() : header.trim();
    if (!MessageDigest.isEqual(token, presented.getBytes(StandardCharsets.UTF_8))) {
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
