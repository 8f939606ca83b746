package ai.distill.gateway.jobs;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Turns a {@link JobSpec} into the CLI command a {@link JobRunner} runs, checked by the command's
 * own parser, so an option the CLI would refuse is refused before the job is accepted. Option keys
 * are the CLI's long names without dashes ({@code max-auc-drop}; {@code max_auc_drop} works too);
 * flags take {@code true}/{@code false}, list options a JSON array or a comma-separated string.
 * Stateless.
 */
final class JobArguments {

  /** The job's own option: least captured rows a {@code "rows": "capture"} job needs. */
  static final String MIN_ROWS = "min-rows";

  static final long DEFAULT_MIN_ROWS = 1_000;

  /**
   * The job's own option: train or calibrate on only the newest this many captured rows (0: all),
   * e.g. the rows since a drift.
   */
  static final String RECENT_ROWS = "recent-rows";

  /** Options the job sets itself (from source, name, rows and action). */
  private static final Set<String> RESERVED =
      Set.of(
          "store",
          "model",
          "teacher",
          "data",
          "name",
          "int8",
          "generate-fixture-inputs",
          "progress-json",
          "help",
          "version");

  private JobArguments() {}

  /** The CLI command of an action. */
  static String command(JobSpec.Action action) {
    return action == JobSpec.Action.QUANTIZE ? "quantize" : "distill";
  }

  /** {@code min_rows} from the options, or the default. */
  static long minRows(JobSpec spec) {
    return ownOption(spec, MIN_ROWS, DEFAULT_MIN_ROWS, 1, "the least captured rows the job needs");
  }

  /** {@code recent_rows} from the options, or 0 (every captured row). */
  static int recentRows(JobSpec spec) {
    return (int)
        ownOption(
            spec,
            RECENT_ROWS,
            0,
            0,
            "how many of the newest captured rows the job uses, 0 for all, at most 10000000");
  }

  private static long ownOption(
      JobSpec spec, String name, long fallback, long least, String meaning) {
    for (Map.Entry<String, Object> e : spec.options().entrySet()) {
      if (normalize(e.getKey()).equals(name)) {
        if (!(e.getValue() instanceof Number n)
            || n.doubleValue() != Math.rint(n.doubleValue())
            || n.longValue() < least
            || n.longValue() > 10_000_000) {
          throw new IllegalArgumentException(
              "options."
                  + e.getKey()
                  + ": "
                  + e.getValue()
                  + " (expected: an integer >= "
                  + least
                  + ", "
                  + meaning
                  + ")");
        }
        return n.longValue();
      }
    }
    return fallback;
  }

  /**
   * The task for {@code spec}: the command with {@code --store}, the pinned source, the rows and
   * the name, then the options as flags.
   *
   * @throws IllegalArgumentException naming the option that the CLI does not accept, and why
   */
  static JobRunner.Task task(
      String id, JobSpec spec, Path storeRoot, String sourceVersion, Path rows) {
    String command = command(spec.action());
    List<String> args =
        new ArrayList<>(
            List.of(
                "--store",
                storeRoot.toString(),
                spec.action() == JobSpec.Action.QUANTIZE ? "--model" : "--teacher",
                sourceVersion,
                "--data",
                rows.toString(),
                "--name",
                spec.name()));
    if (spec.action() == JobSpec.Action.DISTILL_QUANTIZE) {
      args.add("--int8");
    }
    CommandLine cli = ChildMain.command(command);
    CommandSpec cmd = cli.getCommandSpec();
    for (Map.Entry<String, Object> e : spec.options().entrySet()) {
      String key = normalize(e.getKey());
      if (key.equals(MIN_ROWS) || key.equals(RECENT_ROWS)) {
        continue;
      }
      String where = "options." + e.getKey();
      if (RESERVED.contains(key)) {
        throw new IllegalArgumentException(
            where
                + ": set by the job itself (use the body's source, name, rows "
                + "and action; accepted options for "
                + spec.action().jsonName()
                + ": "
                + accepted(cmd)
                + ")");
      }
      OptionSpec option = cmd.findOption("--" + key);
      if (option == null || option.hidden()) {
        throw new IllegalArgumentException(
            where
                + ": not an option of "
                + command
                + " (accepted: "
                + accepted(cmd)
                + ", "
                + MIN_ROWS.replace('-', '_')
                + ", "
                + RECENT_ROWS.replace('-', '_')
                + ")");
      }
      Object value = e.getValue();
      if (key.equals("eval")) {
        value = JobSpec.insideStore(storeRoot, String.valueOf(value), where).toString();
      }
      if (option.arity().max() == 0) {
        if (!(value instanceof Boolean on)) {
          throw new IllegalArgumentException(where + ": " + value + " (expected: true or false)");
        }
        if (on) {
          args.add("--" + key);
        } else if (option.negatable()) {
          args.add("--no-" + key);
        }
      } else if (value instanceof Boolean) {
        throw new IllegalArgumentException(
            where
                + ": "
                + value
                + " (expected: a value, e.g. "
                + (option.paramLabel() == null ? "a number" : option.paramLabel())
                + ")");
      } else if (value instanceof List<?> list) {
        List<String> parts = new ArrayList<>();
        for (Object o : list) {
          parts.add(number(o));
        }
        args.add("--" + key);
        args.add(String.join(",", parts));
      } else {
        args.add("--" + key);
        args.add(value instanceof Number ? number(value) : String.valueOf(value));
      }
    }
    try {
      ChildMain.command(command).parseArgs(args.toArray(String[]::new));
    } catch (CommandLine.ParameterException e) {
      throw new IllegalArgumentException(
          "options: " + command + " refuses them: " + e.getMessage());
    }
    return new JobRunner.Task(id, command, args);
  }

  private static String number(Object o) {
    if (o instanceof Double d && d == Math.rint(d) && Math.abs(d) < 1e15) {
      return Long.toString(d.longValue());
    }
    if (o instanceof Float f && f == Math.rint(f) && Math.abs(f) < 1e7) {
      return Long.toString(f.longValue());
    }
    return String.valueOf(o);
  }

  static String normalize(String key) {
    String k = key.toLowerCase(Locale.ROOT).replace('_', '-');
    return k.startsWith("--") ? k.substring(2) : k;
  }

  private static String accepted(CommandSpec cmd) {
    Set<String> names = new TreeSet<>();
    for (OptionSpec o : cmd.options()) {
      String name = o.longestName().replaceFirst("^-+", "");
      if (!o.hidden() && !RESERVED.contains(name)) {
        names.add(name);
      }
    }
    return String.join(", ", names);
  }
}
