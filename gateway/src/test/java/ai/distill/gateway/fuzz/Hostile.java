package ai.distill.gateway.fuzz;

import io.vertx.core.http.HttpMethod;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * One generated hostile request. {@code clientFault} is true when the request is invalid by
 * construction (it must be answered 4xx); false when a mutation might by chance be valid (then it
 * must only never be a 5xx). Its {@code toString} is what jqwik prints for a shrunk counterexample,
 * ready to paste into a regression test.
 */
record Hostile(
    String surface,
    HttpMethod method,
    String uri,
    Map<String, String> headers,
    byte[] body,
    boolean clientFault) {

  static Hostile post(String surface, String uri, String body) {
    return new Hostile(
        surface,
        HttpMethod.POST,
        uri,
        Map.of("Content-Type", "application/json"),
        body.getBytes(StandardCharsets.UTF_8),
        true);
  }

  static Hostile admin(String surface, HttpMethod method, String uri, String body) {
    return new Hostile(
        surface,
        method,
        uri,
        Map.of("Content-Type", "application/json", "Authorization", "Bearer " + FuzzGateway.TOKEN),
        body == null ? null : body.getBytes(StandardCharsets.UTF_8),
        true);
  }

  Hostile maybeValid() {
    return new Hostile(surface, method, uri, headers, body, false);
  }

  Hostile withHeaders(Map<String, String> h) {
    return new Hostile(surface, method, uri, h, body, clientFault);
  }

  @Override
  public String toString() {
    String b =
        body == null ? "<none>" : new String(body, StandardCharsets.UTF_8).replace("\n", "\\n");
    if (b.length() > 400) {
      b = b.substring(0, 400) + "...(" + body.length + " bytes)";
    }
    String u = uri.length() > 200 ? uri.substring(0, 200) + "...(" + uri.length() + ")" : uri;
    return surface + ": " + method + " " + u + " " + headers.keySet() + " body=" + b;
  }
}
