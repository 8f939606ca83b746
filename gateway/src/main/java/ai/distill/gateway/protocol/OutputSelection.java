package ai.distill.gateway.protocol;

import static ai.distill.gateway.protocol.BodyReader.describe;
import static ai.distill.gateway.protocol.BodyReader.quote;

import ai.distill.gateway.tensor.RequestedOutput;
import ai.distill.store.tensor.TensorSpec;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The {@code outputs} of an OIP request: which outputs to return and whether as binary data, read
 * from the JSON header and checked against the model's outputs. Stateless.
 */
final class OutputSelection {

  /** One requested output as written in the request ({@code binary} null: the request default). */
  record Requested(String name, Boolean binary) {}

  private OutputSelection() {}

  static List<Requested> parse(JsonParser p, JsonToken t) throws IOException {
    if (t != JsonToken.START_ARRAY) {
      throw new BadInputException(
          "'outputs' must be an array of output objects, got " + describe(p, t));
    }
    List<Requested> list = new ArrayList<>();
    while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
      String label = "outputs[" + list.size() + "]";
      if (t != JsonToken.START_OBJECT) {
        throw new BadInputException(label + " must be an object, got " + describe(p, t));
      }
      String name = null;
      Boolean binary = null;
      while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        t = p.nextToken();
        if (field.equals("name")) {
          if (t != JsonToken.VALUE_STRING) {
            throw new BadInputException(label + ": 'name' must be a string, got " + describe(p, t));
          }
          name = p.getText();
        } else if (field.equals("parameters")) {
          if (t != JsonToken.START_OBJECT) {
            throw new BadInputException(
                label + ": 'parameters' must be an object, got " + describe(p, t));
          }
          while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
            String param = p.currentName();
            t = p.nextToken();
            if (param.equals("binary_data")) {
              if (t != JsonToken.VALUE_TRUE && t != JsonToken.VALUE_FALSE) {
                throw new BadInputException(
                    label + ": binary_data must be true or false, got " + describe(p, t));
              }
              binary = t == JsonToken.VALUE_TRUE;
            } else {
              p.skipChildren();
            }
          }
        } else {
          p.skipChildren();
        }
      }
      if (name == null) {
        throw new BadInputException(label + " has no 'name'");
      }
      list.add(new Requested(name, binary));
    }
    return list;
  }

  static List<RequestedOutput> resolve(
      List<Requested> outputs, List<TensorSpec> modelOutputs, boolean binaryDataOutput) {
    if (outputs.isEmpty()) return List.of();
    Set<String> known = modelOutputs.stream().map(TensorSpec::name).collect(Collectors.toSet());
    Set<String> seen = new HashSet<>();
    List<String> unknown = new ArrayList<>();
    List<RequestedOutput> resolved = new ArrayList<>(outputs.size());
    for (Requested o : outputs) {
      if (!seen.add(o.name())) {
        throw new BadInputException("output '" + o.name() + "' is requested more than once");
      }
      if (!known.contains(o.name())) unknown.add(o.name());
      resolved.add(
          new RequestedOutput(o.name(), o.binary() != null ? o.binary() : binaryDataOutput));
    }
    if (!unknown.isEmpty()) {
      throw new BadInputException(
          "unknown output(s) "
              + quote(unknown)
              + "; the model's outputs are "
              + quote(modelOutputs.stream().map(TensorSpec::name).toList()));
    }
    return resolved;
  }
}
