package ai.distill.gateway.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A gateway in a child JVM ({@code distill serve} on loopback, an ephemeral port), for tests that
 * kill it with SIGKILL. The class path goes through the {@code CLASSPATH} variable (ORT fails on
 * long command lines).
 */
public final class ChildGateway {

  private static final Pattern SERVING = Pattern.compile("at http://[^:]+:(\\d+)/v2");

  private ChildGateway() {}

  /** Starts {@code serve --store store} plus {@code args}; its stderr goes to {@code log}. */
  public static Process start(Path store, Path log, String... args) throws IOException {
    List<String> command =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx384m",
                "ai.distill.gateway.cli.Main",
                "serve",
                "--store",
                store.toString(),
                "--host",
                "127.0.0.1",
                "--port",
                "0"));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).redirectError(log.toFile());
    pb.environment().put("CLASSPATH", System.getProperty("java.class.path"));
    return pb.start();
  }

  /** The port the child announces once it serves (reads its stdout up to that line). */
  public static int port(Process p) throws IOException {
    BufferedReader out =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line;
    while ((line = out.readLine()) != null) {
      Matcher m = SERVING.matcher(line);
      if (m.find()) {
        return Integer.parseInt(m.group(1));
      }
    }
    throw new AssertionError("the gateway did not start");
  }
}
