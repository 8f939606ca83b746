package ai.distill.optimizer.cli;

import ai.distill.optimizer.world.CtrWorld;
import ai.distill.optimizer.world.DemoModels;
import ai.distill.optimizer.world.DemoTeacher;
import ai.distill.store.ModelStore;
import ai.distill.store.ModelStoreException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code world}: writes labelled rows of the synthetic CTR world; {@code world teacher} trains and
 * publishes the demo teacher; {@code world demo-models} builds teacher, student and INT8 student. A
 * one-line JSON summary goes to stdout, progress to stderr; bad input exits 1 with one line.
 *
 * <pre>{@code
 * new CommandLine(new WorldCommand()).execute("--out", "rows.jsonl", "--rows", "100000", "--seed", "2026");
 * }</pre>
 */
@Command(
    name = "world",
    mixinStandardHelpOptions = true,
    description = "Write labelled rows of the synthetic CTR world, or build its demo models.",
    subcommands = {WorldCommand.Teacher.class, WorldCommand.Models.class})
public final class WorldCommand implements Callable<Integer> {

  static final ObjectMapper JSON = new ObjectMapper();

  @Spec CommandSpec spec;

  @Option(names = "--out", paramLabel = "ROWS.jsonl", description = "Where to write the rows.")
  Path out;

  @Option(
      names = "--rows",
      paramLabel = "N",
      defaultValue = "100000",
      description = "Rows to write (default: ${DEFAULT-VALUE}).")
  int rows;

  @Option(
      names = "--seed",
      paramLabel = "S",
      defaultValue = "" + CtrWorld.DEMO_SEED,
      description = "World seed (default: ${DEFAULT-VALUE}, the demo's world).")
  long seed;

  @Option(
      names = "--row-seed",
      paramLabel = "S",
      description = "Seed of the row draws (default: the world seed).")
  Long rowSeed;

  public WorldCommand() {}

  @Override
  public Integer call() {
    return guard(
        spec,
        () -> {
          if (out == null) {
            throw new IllegalArgumentException(
                "--out ROWS.jsonl is required (or use a subcommand: teacher, demo-models)");
          }
          if (rows < 1) {
            throw new IllegalArgumentException("--rows : " + rows + " (expected: >= 1)");
          }
          long t0 = System.nanoTime();
          new CtrWorld(seed).write(out, rows, rowSeed == null ? seed : rowSeed);
          Map<String, Object> m = new LinkedHashMap<>();
          m.put("rows", rows);
          m.put("out", out.toString());
          m.put("world_seed", seed);
          m.put("seconds", Math.round((System.nanoTime() - t0) / 1e6) / 1000.0);
          return m;
        });
  }

  /** {@code world teacher}: trains the demo teacher on the world and publishes it. */
  @Command(
      name = "teacher",
      mixinStandardHelpOptions = true,
      description = "Train the demo CTR teacher and publish it (role teacher).")
  static final class Teacher implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(
        names = "--store",
        paramLabel = "DIR",
        defaultValue = "${env:DISTILL_STORE:-store}",
        description = "Model store directory.")
    Path store;

    @Option(
        names = "--name",
        defaultValue = "ctr",
        description = "Model name (default: ${DEFAULT-VALUE}).")
    String name;

    @Option(
        names = "--rows",
        defaultValue = "400000",
        description = "Training rows (default: ${DEFAULT-VALUE}).")
    int rows;

    @Option(
        names = "--seed",
        defaultValue = "" + CtrWorld.DEMO_SEED,
        description = "World seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(
        names = "--epochs",
        defaultValue = "1",
        description = "Epochs (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Override
    public Integer call() {
      return guard(
          spec,
          () -> {
            ModelStore.checkName(name);
            if (rows < 1000) {
              throw new IllegalArgumentException("--rows : " + rows + " (expected: >= 1000)");
            }
            ModelStore s = ModelStore.open(store);
            PrintWriter err = spec.commandLine().getErr();
            DemoTeacher.Trained t =
                DemoTeacher.train(
                    new CtrWorld(seed),
                    rows,
                    20_000,
                    DemoTeacher.defaultConfig(seed).withEpochs(epochs),
                    line -> {
                      err.println(line);
                      err.flush();
                    });
            var v =
                s.publish(
                    ai.distill.store.PublishRequest.fromBytes(
                        name, t.model(), ai.distill.store.Role.TEACHER, null, t.metrics()));
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("teacher", v.id());
            m.putAll(t.metrics());
            return m;
          });
    }
  }

  /** {@code world demo-models}: teacher, distilled student and INT8 student for the demo. */
  @Command(
      name = "demo-models",
      mixinStandardHelpOptions = true,
      description = "Build and publish the demo's teacher, distilled student and INT8 student.")
  static final class Models implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(
        names = "--store",
        paramLabel = "DIR",
        defaultValue = "${env:DISTILL_STORE:-store}",
        description = "Model store directory.")
    Path store;

    @Option(names = "--no-int8", description = "Skip the INT8 student.")
    boolean noInt8;

    @Option(names = "--small", description = "Small, fast models (for smoke tests).")
    boolean small;

    @Override
    public Integer call() {
      return guard(
          spec,
          () -> {
            PrintWriter err = spec.commandLine().getErr();
            DemoModels.Options o =
                (small ? DemoModels.Options.small() : DemoModels.Options.defaults())
                    .withInt8(!noInt8);
            DemoModels.Result r =
                DemoModels.build(
                    ModelStore.open(store),
                    o,
                    line -> {
                      err.println(line);
                      err.flush();
                    });
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("teacher", r.teacher().id());
            m.put("student", r.student().id());
            m.put("int8_student", r.int8Student() == null ? null : r.int8Student().id());
            return m;
          });
    }
  }

  interface Body {
    Map<String, Object> run() throws Exception;
  }

  static int guard(CommandSpec spec, Body body) {
    PrintWriter err = spec.commandLine().getErr();
    try {
      Map<String, Object> summary = body.run();
      PrintWriter o = spec.commandLine().getOut();
      o.println(JSON.writeValueAsString(summary));
      o.flush();
      return 0;
    } catch (IllegalArgumentException | ModelStoreException | UncheckedIOException e) {
      err.println(spec.qualifiedName() + ": " + e.getMessage());
      err.flush();
      return 1;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Runs the command standalone. */
  public static void main(String[] args) {
    System.exit(new CommandLine(new WorldCommand()).execute(args));
  }
}
