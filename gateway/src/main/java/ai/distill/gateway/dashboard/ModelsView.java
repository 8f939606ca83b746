package ai.distill.gateway.dashboard;

import ai.distill.gateway.Gateway;
import ai.distill.gateway.runtime.RepositoryIndex;
import ai.distill.store.Manifest;
import ai.distill.store.ModelStore;
import ai.distill.store.ModelVersion;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code GET /v1/models}: every stored model with its versions, each with its serving state (from
 * the registry's repository index) and its manifest (role, lineage parent, size, sha256, created,
 * metrics such as AUC). Read-only and public, like {@code POST /v2/repository/index}. The store is
 * read on a worker thread.
 *
 * <pre>{@code
 * {"models": [{"name": "ctr-int8", "versions": [{"version": "1", "state": "READY",
 *   "role": "student", "parent": "ctr-distilled:1", "size": 81234, "metrics": {...}}]}]}
 * }</pre>
 */
final class ModelsView implements Handler<RoutingContext> {

  private final Vertx vertx;
  private final ModelStore store;
  private final Gateway gateway;

  ModelsView(Gateway gateway) {
    this.gateway = gateway;
    this.vertx = gateway.vertx();
    this.store = gateway.store();
  }

  @Override
  public void handle(RoutingContext ctx) {
    Future<List<ModelVersion>> stored = vertx.executeBlocking(store::allVersions, false);
    Future<List<RepositoryIndex.Entry>> index = gateway.models().index();
    Future.all(stored, index)
        .onSuccess(
            all ->
                ctx.response()
                    .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                    .end(json(stored.result(), index.result()).toBuffer()))
        .onFailure(ctx::fail);
  }

  static JsonObject json(List<ModelVersion> stored, List<RepositoryIndex.Entry> index) {
    Map<String, RepositoryIndex.Entry> states = new HashMap<>();
    for (RepositoryIndex.Entry e : index) {
      states.put(e.name() + ":" + e.version(), e);
    }
    Map<String, JsonArray> byModel = new LinkedHashMap<>();
    for (ModelVersion v : stored) {
      Manifest m = v.manifest();
      RepositoryIndex.Entry state = states.get(v.id());
      JsonObject o =
          new JsonObject()
              .put("version", Long.toString(v.version()))
              .put("state", state == null ? "UNAVAILABLE" : state.state())
              .put("role", m.role().toString().toLowerCase(Locale.ROOT))
              .put("parent", m.parent())
              .put("size", m.size())
              .put("sha256", m.sha256())
              .put("created", m.created().toString())
              .put("metrics", new JsonObject(new LinkedHashMap<>(m.metrics())));
      if (state != null && !state.reason().isEmpty()) {
        o.put("reason", state.reason());
      }
      byModel.computeIfAbsent(v.name(), n -> new JsonArray()).add(o);
    }
    JsonArray models = new JsonArray();
    byModel.forEach(
        (name, versions) ->
            models.add(new JsonObject().put("name", name).put("versions", versions)));
    return new JsonObject().put("models", models);
  }
}
