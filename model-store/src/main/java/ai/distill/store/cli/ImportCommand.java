package ai.distill.store.cli;

import ai.distill.store.ModelStore;
import ai.distill.store.ModelVersion;
import ai.distill.store.OnnxFileCheck;
import ai.distill.store.PublishRequest;
import ai.distill.store.Role;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code store import}: publishes an ONNX file as the next version of a model. */
@Command(
    name = "import",
    mixinStandardHelpOptions = true,
    description = "Import an ONNX model file as the next version of a model.")
final class ImportCommand extends StoreSubcommand {

  private static final Pattern PARENT =
      Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}(:[1-9][0-9]{0,17})?");

  @Option(
      names = "--name",
      required = true,
      paramLabel = "N",
      description = "Model name, e.g. ctr.")
  String name;

  @Option(
      names = "--file",
      required = true,
      paramLabel = "F.onnx",
      description = "The ONNX model file.")
  Path file;

  @Option(
      names = "--role",
      paramLabel = "teacher|student",
      defaultValue = "teacher",
      converter = RoleConverter.class,
      description = "Role of the model (default: ${DEFAULT-VALUE}).")
  Role role;

  @Option(
      names = "--parent",
      paramLabel = "P",
      description = "Lineage: the model it derives from, name or name:version.")
  String parent;

  @Override
  int run(ModelStore store) throws Exception {
    ModelStore.checkName(name);
    if (parent != null && !PARENT.matcher(parent).matches()) {
      throw new IllegalArgumentException(
          "parent : " + parent + " (expected: name or name:version)");
    }
    OnnxFileCheck.check(file);
    ModelVersion v = store.publish(PublishRequest.fromFile(name, file, role, parent, null));
    Map<String, Object> summary = new LinkedHashMap<>();
    summary.put("imported", v.id());
    summary.put("name", v.name());
    summary.put("version", v.version());
    summary.put("role", v.role().jsonName());
    summary.put("parent", v.manifest().parent());
    summary.put("sha256", v.manifest().sha256());
    summary.put("size", v.manifest().size());
    summary.put("path", v.modelFile().toString());
    printJson(summary);
    return 0;
  }

  /** Case-insensitive {@code teacher|student} with the store's own message. */
  static final class RoleConverter implements CommandLine.ITypeConverter<Role> {
    @Override
    public Role convert(String value) {
      try {
        return Role.parse(value);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(
            "'" + value + "' (expected: teacher or student)");
      }
    }
  }
}
