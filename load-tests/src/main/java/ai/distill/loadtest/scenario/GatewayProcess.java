package ai.distill.loadtest.scenario;

import ai.distill.loadtest.LoadTestException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A gateway started as a child process ({@code java -jar distill.jar serve ...} on 127.0.0.1 and a
 * free port), optionally pinned to CPUs with {@code taskset} so client and server do not share
 * cores. Waits (bounded) until {@code /v2/health/ready} answers 200. {@link #close()} stops it
 * (SIGTERM, then SIGKILL after 20 s). Output goes to a log file.
 */
public final class GatewayProcess implements AutoCloseable {
  private final Process process;
  private final URI url;
  private final Path log;
  private final List<String> command;

  private GatewayProcess(Process process, URI url, Path log, List<String> command) {
    this.process = process;
    this.url = url;
    this.log = log;
    this.command = command;
  }

  /**
   * @param cpus a taskset CPU list ("1", "0-1"), or null to leave the process unpinned
   * @param config a gateway JSON config file, or null
   */
  public static GatewayProcess start(
      Path jar, Path store, Path config, String cpus, Path log, Duration readyTimeout) {
    if (!Files.isRegularFile(jar)) {
      throw new LoadTestException(
          "gateway jar not found: "
              + jar
              + " (build it with `mvn -pl gateway -am package -DskipTests` "
              + "or pass --gateway-jar / --url)");
    }
    int port = freePort();
    List<String> command = new ArrayList<>();
    if (cpus != null) {
      command.addAll(List.of("taskset", "-c", cpus));
    }
    command.addAll(
        List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx1g",
            "-jar",
            jar.toString(),
            "serve",
            "--store",
            store.toString(),
            "--host",
            "127.0.0.1",
            "--port",
            Integer.toString(port)));
    if (config != null) {
      command.addAll(List.of("--config", config.toString()));
    }
    Process process;
    try {
      Files.createDirectories(log.toAbsolutePath().getParent());
      process =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
    } catch (IOException e) {
      throw new LoadTestException(
          "cannot start the gateway (" + String.join(" ", command) + "): " + e.getMessage(), e);
    }
    GatewayProcess gateway =
        new GatewayProcess(process, URI.create("http://127.0.0.1:" + port), log, command);
    try {
      gateway.awaitReady(readyTimeout);
    } catch (RuntimeException e) {
      gateway.close();
      throw e;
    }
    return gateway;
  }

  public URI url() {
    return url;
  }

  public String commandLine() {
    return String.join(" ", command);
  }

  public long pid() {
    return process.pid();
  }

  private void awaitReady(Duration timeout) {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new LoadTestException(
            "the gateway exited with "
                + process.exitValue()
                + " before it was ready; see "
                + log
                + ":\n"
                + tail());
      }
      try {
        HttpResponse<Void> r =
            http.send(
                HttpRequest.newBuilder(url.resolve("/v2/health/ready"))
                    .timeout(Duration.ofSeconds(2))
                    .GET()
                    .build(),
                HttpResponse.BodyHandlers.discarding());
        if (r.statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new LoadTestException("interrupted while waiting for the gateway");
      }
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new LoadTestException("interrupted while waiting for the gateway");
      }
    }
    throw new LoadTestException(
        "the gateway was not ready within "
            + timeout.toSeconds()
            + " s; see "
            + log
            + ":\n"
            + tail());
  }

  private String tail() {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
    } catch (IOException e) {
      return "(no log)";
    }
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new LoadTestException("cannot find a free port on 127.0.0.1: " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }
}
