package ai.distill.optimizer.world;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.optimizer.distill.TeacherSignature;
import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.store.ModelStore;
import ai.distill.store.Role;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoModelsTest {

  @Test
  void builds_and_publishes_teacher_and_distilled_student_once(@TempDir Path dir) throws Exception {
    ModelStore store = ModelStore.open(dir);
    List<String> progress = new ArrayList<>();
    DemoModels.Result r =
        DemoModels.ensure(store, DemoModels.Options.small().withInt8(false), progress::add);
    assertEquals("ctr:1", r.teacher().id());
    assertEquals(Role.TEACHER, r.teacher().role());
    assertEquals("ctr-student:1", r.student().id());
    assertEquals("ctr:1", r.student().manifest().parent());
    assertTrue(
        (double) r.teacher().manifest().metrics().get("auc") > 0.65,
        r.teacher().manifest().metrics().toString());
    OnnxModel teacher = OnnxModel.load(r.teacher().modelFile());
    assertEquals(CtrWorld.signature().toString(), TeacherSignature.of(teacher.proto()).toString());
    assertTrue(
        progress.stream().anyMatch(l -> l.startsWith("teacher epoch 1")), progress.toString());
    DemoModels.Result again = DemoModels.ensure(store, DemoModels.Options.small(), line -> {});
    assertEquals("ctr:1", again.teacher().id());
    assertEquals(1, store.versions("ctr").size());
  }
}
