package ai.distill.loadtest.oip;

import ai.distill.loadtest.LoadTestException;
import ai.distill.store.tensor.Datatype;
import ai.distill.store.tensor.TensorSpec;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/** A model's OIP v2 metadata ({@code GET /v2/models/{m}}): its name and input signature. */
public record ModelMetadata(
    String name, List<String> versions, List<TensorSpec> inputs, List<TensorSpec> outputs) {

  public static ModelMetadata parse(JsonObject json) {
    try {
      List<String> versions = new ArrayList<>();
      JsonArray v = json.getJsonArray("versions");
      if (v != null) {
        v.forEach(o -> versions.add(String.valueOf(o)));
      }
      return new ModelMetadata(
          json.getString("name"),
          versions,
          specs(json.getJsonArray("inputs")),
          specs(json.getJsonArray("outputs")));
    } catch (RuntimeException e) {
      throw new LoadTestException(
          "the gateway's model metadata is not OIP v2 (" + e.getMessage() + "): " + json.encode(),
          e);
    }
  }

  public TensorSpec input(String name) {
    for (TensorSpec s : inputs) {
      if (s.name().equals(name)) {
        return s;
      }
    }
    return null;
  }

  private static List<TensorSpec> specs(JsonArray array) {
    List<TensorSpec> specs = new ArrayList<>();
    if (array == null) {
      return specs;
    }
    for (int i = 0; i < array.size(); i++) {
      JsonObject o = array.getJsonObject(i);
      JsonArray shape = o.getJsonArray("shape");
      long[] dims = new long[shape.size()];
      for (int d = 0; d < dims.length; d++) {
        dims[d] = shape.getLong(d);
      }
      specs.add(new TensorSpec(o.getString("name"), Datatype.parse(o.getString("datatype")), dims));
    }
    return specs;
  }
}
