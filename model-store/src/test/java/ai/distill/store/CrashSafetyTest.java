package ai.distill.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a publishing child JVM with SIGKILL at random moments and checks that the store only shows
 * whole versions.
 */
class CrashSafetyTest {

  @TempDir Path root;

  @Test
  void a_publisher_killed_at_a_random_moment_never_leaves_a_half_written_version()
      throws Exception {
    Random random = new Random();
    long seed = random.nextLong();
    int published = 0;
    for (int round = 0; round < 3; round++) {
      Process child =
          new ProcessBuilder(
                  Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  "-Xmx256m",
                  "-XX:TieredStopAtLevel=1",
                  "-cp",
                  System.getProperty("java.class.path"),
                  PublishLoop.class.getName(),
                  root.toString(),
                  Long.toString(seed + round))
              .redirectError(root.resolve("child-" + round + ".log").toFile())
              .start();
      try (BufferedReader out =
          new BufferedReader(
              new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
        // wait until it is publishing steadily, then kill it somewhere inside a later publish
        String line;
        int seen = 0;
        while (seen < 2 && (line = out.readLine()) != null) {
          assertTrue(line.startsWith("published "), "child said: " + line);
          seen++;
        }
        assertEquals(2, seen, "the child publisher did not start");
        Thread.sleep(random.nextInt(150));
        published += seen;
      } finally {
        child.destroyForcibly();
        child.waitFor();
      }

      int leftovers;
      try (Stream<Path> tmp = Files.list(root.resolve("tmp"))) {
        leftovers = (int) tmp.count();
      }
      System.out.println(
          "round "
              + round
              + ": killed after "
              + published
              + " publishes, "
              + leftovers
              + " temporary entries left behind");
      ModelStore store = ModelStore.open(root); // cleans what the killed publisher left in tmp
      List<ModelVersion> all = store.allVersions();
      assertFalse(all.isEmpty(), "seed " + seed);
      for (ModelVersion v : all) {
        store.verify(v);
        OnnxFileCheck.check(v.modelFile());
      }
      try (Stream<Path> tmp = Files.list(root.resolve("tmp"))) {
        assertEquals(List.of(), tmp.toList(), "seed " + seed);
      }
    }
    assertTrue(published >= 6);
  }
}
