package ai.distill.store.cli;

import ai.distill.store.IntegrityException;
import ai.distill.store.ModelStore;
import ai.distill.store.ModelVersion;
import java.io.PrintWriter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code store list}: the complete versions in the store, as a table or as one line of JSON. */
@Command(
    name = "list",
    mixinStandardHelpOptions = true,
    description = "List the models and versions in the store.")
final class ListCommand extends StoreSubcommand {

  @Option(
      names = "--json",
      description = "Print one line of JSON (an array of versions) instead of a table.")
  boolean json;

  @Option(names = "--name", paramLabel = "N", description = "Only this model.")
  String name;

  @Option(
      names = "--verify",
      description = "Recompute each model file's sha256 and report ok or CORRUPT.")
  boolean verify;

  @Override
  int run(ModelStore store) throws Exception {
    List<ModelVersion> versions =
        name != null ? store.versions(ModelStore.checkName(name)) : store.allVersions();
    List<String> status = new ArrayList<>();
    boolean corrupt = false;
    for (ModelVersion v : versions) {
      String s = "";
      if (verify) {
        try {
          store.verify(v);
          s = "ok";
        } catch (IntegrityException e) {
          s = "CORRUPT";
          corrupt = true;
          err().println("store list: " + e.getMessage());
        }
      }
      status.add(s);
    }
    if (json) {
      List<Map<String, Object>> rows = new ArrayList<>();
      for (int i = 0; i < versions.size(); i++) {
        ModelVersion v = versions.get(i);
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("id", v.id());
        row.put("name", v.name());
        row.put("version", v.version());
        row.put("role", v.role().jsonName());
        row.put("parent", v.manifest().parent());
        row.put("sha256", v.manifest().sha256());
        row.put("size", v.manifest().size());
        row.put("created", v.manifest().created().toString());
        row.put("metrics", v.manifest().metrics());
        row.put("path", v.modelFile().toString());
        if (verify) {
          row.put("integrity", status.get(i).toLowerCase(java.util.Locale.ROOT));
        }
        rows.add(row);
      }
      printJson(rows);
    } else if (versions.isEmpty()) {
      out()
          .println(
              name != null
                  ? "no versions of " + name + " in store " + store.root()
                  : "no models in store " + store.root());
    } else {
      printTable(versions, status);
    }
    out().flush();
    return corrupt ? 1 : 0;
  }

  private void printTable(List<ModelVersion> versions, List<String> status) {
    String[] head = {
      "NAME", "VERSION", "ROLE", "PARENT", "SIZE", "SHA256", "CREATED", verify ? "INTEGRITY" : ""
    };
    List<String[]> cells = new ArrayList<>();
    cells.add(head);
    for (int i = 0; i < versions.size(); i++) {
      ModelVersion v = versions.get(i);
      cells.add(
          new String[] {
            v.name(),
            Long.toString(v.version()),
            v.role().jsonName(),
            v.manifest().parent() == null ? "-" : v.manifest().parent(),
            Long.toString(v.manifest().size()),
            v.manifest().sha256().substring(0, 12),
            v.manifest().created().truncatedTo(ChronoUnit.SECONDS).toString(),
            status.get(i)
          });
    }
    int[] width = new int[head.length];
    for (String[] row : cells) {
      for (int c = 0; c < row.length; c++) {
        width[c] = Math.max(width[c], row[c].length());
      }
    }
    PrintWriter out = out();
    for (String[] row : cells) {
      StringBuilder sb = new StringBuilder();
      for (int c = 0; c < row.length; c++) {
        if (width[c] == 0) {
          continue;
        }
        sb.append(String.format("%-" + width[c] + "s", row[c])).append("  ");
      }
      out.println(sb.toString().stripTrailing());
    }
  }
}
