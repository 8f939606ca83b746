package ai.distill.gateway.jobs;

import ai.distill.optimizer.cli.DistillCommand;
import ai.distill.optimizer.cli.QuantizeCommand;
import java.io.IOException;
import java.io.InputStream;
import picocli.CommandLine;

/**
 * The entry point of a child job JVM: {@code ChildMain quantize|distill ARGS...} runs that CLI
 * command and exits with its status. It also watches its stdin, which the gateway holds open: EOF
 * means the gateway is gone, and the child halts at once (the optimizer publishes atomically, so a
 * job stopped anywhere publishes nothing or everything).
 */
public final class ChildMain {

  private ChildMain() {}

  public static void main(String[] args) {
    watchParent(System.in);
    if (args.length == 0) {
      System.err.println("usage: ChildMain quantize|distill ARGS...");
      System.exit(2);
    }
    CommandLine cli = command(args[0]);
    if (cli == null) {
      System.err.println("unknown job command '" + args[0] + "' (expected: quantize or distill)");
      System.exit(2);
    }
    String[] rest = new String[args.length - 1];
    System.arraycopy(args, 1, rest, 0, rest.length);
    System.exit(cli.execute(rest));
  }

  /** A fresh command line for a job command, or null for an unknown one. */
  static CommandLine command(String name) {
    return switch (name) {
      case "quantize" -> new CommandLine(new QuantizeCommand());
      case "distill" -> new CommandLine(new DistillCommand());
      default -> null;
    };
  }

  private static void watchParent(InputStream in) {
    Thread watcher =
        new Thread(
            () -> {
              byte[] buf = new byte[256];
              try {
                while (in.read(buf) >= 0) {
                  // the parent never writes; anything it might is ignored
                }
              } catch (IOException e) {
                // a broken pipe means the same as EOF
              }
              System.err.println("job: the gateway is gone; stopping");
              System.err.flush();
              Runtime.getRuntime().halt(143);
            },
            "distill-parent-watch");
    watcher.setDaemon(true);
    watcher.start();
  }
}
