package ai.distill.gateway.jobs;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs each job in a child JVM: {@code nice -n 10 java -XX:ActiveProcessorCount=1 ... ChildMain
 * <command> <args> --progress-json}, so a job competes for at most one core at a lower priority
 * than serving. The class path goes through the {@code CLASSPATH} environment variable, not {@code
 * -cp}: ONNX Runtime 1.29's native init crashes when the process command line is longer than a few
 * kB. One dedicated thread per child reads its merged stdout/stderr: progress lines (JSON with
 * {@code stage} and {@code fraction}), the final one-line JSON summary, and the last lines of
 * anything else for the error message. The child's stdin stays open while the gateway lives; the
 * child exits on EOF, so it never outlives the gateway. Cancel sends SIGTERM, then SIGKILL after a
 * grace period. Thread-safe.
 */
final class ChildProcessJobRunner implements JobRunner {

  private static final System.Logger LOG = System.getLogger(ChildProcessJobRunner.class.getName());
  static final Duration KILL_GRACE = Duration.ofSeconds(5);
  private static final int TAIL_LINES = 20;

  /** The niceness of a child job: below serving, still scheduled. */
  static final int NICENESS = 10;

  private final String classPath;
  private final List<String> jvmOptions;
  private final Set<Process> live = ConcurrentHashMap.newKeySet();

  ChildProcessJobRunner(String classPath, List<String> jvmOptions) {
    this.classPath = classPath;
    this.jvmOptions = List.copyOf(jvmOptions);
  }

  /** This JVM's class path with absolute entries (a child may start in another directory). */
  static String currentClassPath() {
    List<String> entries = new ArrayList<>();
    for (String e : System.getProperty("java.class.path", "").split(File.pathSeparator)) {
      if (!e.isEmpty()) {
        entries.add(Path.of(e).toAbsolutePath().toString());
      }
    }
    return String.join(File.pathSeparator, entries);
  }

  /** The child's command line (without the class path, which goes in the environment). */
  List<String> commandLine(Task task) {
    List<String> cmd = new ArrayList<>();
    for (String nice : List.of("/usr/bin/nice", "/bin/nice")) {
      if (Files.isExecutable(Path.of(nice))) {
        cmd.addAll(List.of(nice, "-n", Integer.toString(NICENESS)));
        break;
      }
    }
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-XX:ActiveProcessorCount=1");
    cmd.add("-XX:+UseSerialGC");
    cmd.addAll(jvmOptions);
    cmd.add(ChildMain.class.getName());
    cmd.add(task.command());
    cmd.addAll(task.arguments());
    cmd.add("--progress-json");
    return cmd;
  }

  @Override
  public Execution start(Task task, Listener listener) {
    ProcessBuilder pb = new ProcessBuilder(commandLine(task)).redirectErrorStream(true);
    pb.environment().put("CLASSPATH", classPath);
    Process process;
    try {
      process = pb.start();
    } catch (IOException e) {
      listener.failed("cannot start the job's JVM: " + e.getMessage());
      return () -> {};
    }
    live.add(process);
    AtomicBoolean cancelled = new AtomicBoolean();
    Thread reader =
        new Thread(() -> follow(task, process, listener, cancelled), "distill-job-" + task.id());
    reader.setDaemon(true);
    reader.start();
    return () -> {
      if (cancelled.compareAndSet(false, true)) {
        stop(process);
      }
    };
  }

  private void follow(Task task, Process process, Listener listener, AtomicBoolean cancelled) {
    // Held open (never written) so that the child sees EOF only when this JVM dies.
    OutputStream stdin = process.getOutputStream();
    Deque<String> tail = new ArrayDeque<>();
    JsonObject summary = null;
    String stage = "start";
    try (BufferedReader out =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = out.readLine()) != null) {
        JsonObject json = line.startsWith("{") ? parse(line) : null;
        if (json != null
            && json.getValue("stage") instanceof String s
            && json.getValue("fraction") instanceof Number f) {
          stage = s;
          listener.progress(s, f.doubleValue());
        } else if (json != null) {
          summary = json;
        } else {
          tail.addLast(line);
          if (tail.size() > TAIL_LINES) {
            tail.removeFirst();
          }
        }
      }
      int exit = process.waitFor();
      if (exit == 0 && summary != null) {
        listener.succeeded(summary);
      } else if (cancelled.get()) {
        listener.cancelled(stage);
      } else {
        LOG.log(
            System.Logger.Level.WARNING,
            "job {0} ({1}) exited with status {2}:\n{3}",
            task.id(),
            task.command(),
            exit,
            String.join("\n", tail));
        listener.failed(reason(task.command(), exit, tail));
      }
    } catch (IOException e) {
      listener.failed("lost the job's output: " + e.getMessage());
      stop(process);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stop(process);
      listener.failed("interrupted while waiting for the job");
    } catch (RuntimeException e) {
      stop(process);
      listener.failed("job follower failed: " + e);
    } finally {
      live.remove(process);
      try {
        stdin.close();
      } catch (IOException ignored) {
        // the child is gone
      }
    }
  }

  private static JsonObject parse(String line) {
    try {
      return new JsonObject(line);
    } catch (DecodeException e) {
      return null;
    }
  }

  // The CLI prints "<command>: <reason>" as its last word on bad input or a failed gate.
  static String reason(String command, int exit, Deque<String> tail) {
    List<String> lines = new ArrayList<>(tail);
    for (int i = lines.size() - 1; i >= 0; i--) {
      if (lines.get(i).startsWith(command + ": ")) {
        return lines.get(i).substring(command.length() + 2);
      }
    }
    List<String> last = lines.subList(Math.max(0, lines.size() - 3), lines.size());
    return command
        + " exited with status "
        + exit
        + (last.isEmpty() ? "" : ": " + String.join(" | ", last));
  }

  private static void stop(Process process) {
    if (!process.isAlive()) {
      return;
    }
    process.destroy();
    CompletableFuture.delayedExecutor(KILL_GRACE.toMillis(), TimeUnit.MILLISECONDS)
        .execute(
            () -> {
              if (process.isAlive()) {
                process.destroyForcibly();
              }
            });
  }

  @Override
  public void close() {
    for (Process p : live) {
      stop(p);
    }
  }
}
