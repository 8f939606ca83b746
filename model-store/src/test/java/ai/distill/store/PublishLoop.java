package ai.distill.store;

import java.nio.file.Path;
import java.util.Random;

/**
 * Child-process main for {@link CrashSafetyTest}: publishes versions of varying size until killed.
 */
public final class PublishLoop {

  private PublishLoop() {}

  public static void main(String[] args) {
    ModelStore store = ModelStore.open(Path.of(args[0]));
    Random random = new Random(Long.parseLong(args[1]));
    for (int i = 0; ; i++) {
      // 64 KiB .. 4 MiB so that a kill often lands mid-write
      byte[] bytes = TestModels.onnx("g" + i, 65_536 + random.nextInt(4 << 20));
      ModelVersion v =
          store.publish(
              PublishRequest.fromBytes(i % 2 == 0 ? "ctr" : "ctr-int8", bytes, Role.TEACHER));
      if (i % 3 == 0) {
        store.remove(v.name(), v.version());
      }
      System.out.println("published " + v.id());
      System.out.flush();
    }
  }
}
