package ai.distill.optimizer.world;

import ai.distill.optimizer.distill.DistillOptions;
import ai.distill.optimizer.distill.DistillResult;
import ai.distill.optimizer.distill.Distiller;
import ai.distill.optimizer.distill.Int8Chain;
import ai.distill.optimizer.job.ProgressListener;
import ai.distill.optimizer.onnx.OnnxModel;
import ai.distill.optimizer.table.RowTable;
import ai.distill.optimizer.train.StudentConfig;
import ai.distill.store.ModelStore;
import ai.distill.store.ModelVersion;
import ai.distill.store.PublishRequest;
import ai.distill.store.Role;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Builds the demo's models from the {@link CtrWorld} and publishes them: a teacher trained on the
 * world, a student distilled from it, and (when {@code int8}) the student's INT8 version, which is
 * skipped with a progress line when the quantizer refuses it (accuracy gate or slower than FP32).
 * Takes about a minute on two idle cores with the defaults. Stateless.
 *
 * <pre>{@code
 * DemoModels.Result r = DemoModels.build(ModelStore.open(dir), DemoModels.Options.defaults(), System.err::println);
 * r.teacher().id();   // "ctr:1"
 * }</pre>
 */
public final class DemoModels {

  /**
   * What to build.
   *
   * @param worldSeed the world ({@link CtrWorld#DEMO_SEED} for the demo)
   * @param teacherRows labelled rows the teacher trains on
   * @param studentRows rows the student is distilled on (fresh draws; their labels are used with
   *     weight 1 − alpha)
   * @param evalRows fresh labelled rows for evaluation
   * @param teacherName model name of the teacher
   * @param studentName model name of the student; the INT8 student is {@code <studentName>-int8}
   * @param teacher the teacher's architecture and training settings
   * @param student the distillation settings
   * @param int8 also publish the INT8 student
   */
  public record Options(
      long worldSeed,
      int teacherRows,
      int studentRows,
      int evalRows,
      String teacherName,
      String studentName,
      StudentConfig teacher,
      DistillOptions student,
      boolean int8) {

    /**
     * 400k teacher rows, 200k student rows, 20k evaluation rows; ctr, ctr-student,
     * ctr-student-int8.
     */
    public static Options defaults() {
      return new Options(
          CtrWorld.DEMO_SEED,
          400_000,
          200_000,
          20_000,
          "ctr",
          "ctr-student",
          DemoTeacher.defaultConfig(CtrWorld.DEMO_SEED),
          DistillOptions.defaults()
              .withStudent(
                  StudentConfig.defaults()
                      .withEmbeddingDim(8)
                      .withHidden(64, 32)
                      .withEpochs(2)
                      .withSeed(CtrWorld.DEMO_SEED)),
          true);
    }

    /** Small and quick (seconds), for tests. */
    public static Options small() {
      Options d = defaults();
      return new Options(
          d.worldSeed(),
          20_000,
          20_000,
          5_000,
          d.teacherName(),
          d.studentName(),
          d.teacher().withHidden(64, 32).withEmbeddingDim(8).withEpochs(1),
          d.student()
              .withStudent(d.student().student().withHidden(16).withEmbeddingDim(4).withEpochs(1)),
          d.int8());
    }

    public Options withInt8(boolean v) {
      return new Options(
          worldSeed,
          teacherRows,
          studentRows,
          evalRows,
          teacherName,
          studentName,
          teacher,
          student,
          v);
    }

    public Options withNames(String teacherName, String studentName) {
      return new Options(
          worldSeed,
          teacherRows,
          studentRows,
          evalRows,
          teacherName,
          studentName,
          teacher,
          student,
          int8);
    }
  }

  /**
   * What was published.
   *
   * @param teacher the teacher version
   * @param student the distilled student version
   * @param int8Student the INT8 student version, or null
   */
  public record Result(ModelVersion teacher, ModelVersion student, ModelVersion int8Student) {}

  private DemoModels() {}

  /**
   * Builds and publishes the models unless the store already has the teacher (then returns the
   * latest versions).
   */
  public static Result ensure(ModelStore store, Options options, Consumer<String> progress) {
    Optional<ModelVersion> teacher = store.latest(options.teacherName());
    if (teacher.isPresent()) {
      return new Result(
          teacher.get(),
          store.latest(options.studentName()).orElse(null),
          store.latest(options.studentName() + "-int8").orElse(null));
    }
    return build(store, options, progress);
  }

  /** Builds and publishes the teacher, the student and (optionally) the INT8 student. */
  public static Result build(ModelStore store, Options options, Consumer<String> progress) {
    ModelStore.checkName(options.teacherName());
    ModelStore.checkName(options.studentName());
    CtrWorld world = new CtrWorld(options.worldSeed());
    DemoTeacher.Trained trained =
        DemoTeacher.train(
            world, options.teacherRows(), options.evalRows(), options.teacher(), progress);
    ModelVersion teacher =
        store.publish(
            PublishRequest.fromBytes(
                options.teacherName(), trained.model(), Role.TEACHER, null, trained.metrics()));
    progress.accept("published " + teacher.id());

    RowTable rows = world.table(options.studentRows(), options.worldSeed() + 3, null);
    RowTable eval = world.table(options.evalRows(), options.worldSeed() + 2, null);
    DistillResult distilled =
        Distiller.distill(
            OnnxModel.fromBytes(trained.model()),
            teacher.id(),
            rows,
            eval,
            options.student(),
            ProgressListener.lines(progress));
    Map<String, Object> metrics = new LinkedHashMap<>(distilled.metrics());
    ModelVersion student =
        store.publish(
            PublishRequest.fromBytes(
                options.studentName(), distilled.model(), Role.STUDENT, teacher.id(), metrics));
    progress.accept("published " + student.id());
    ModelVersion int8Student = null;
    if (options.int8()) {
      try {
        Int8Chain.Int8Student int8 =
            Int8Chain.quantize(
                distilled.model(), rows, eval, options.student(), ProgressListener.lines(progress));
        Map<String, Object> m = new LinkedHashMap<>(int8.metrics());
        m.put("teacher", teacher.id());
        int8Student =
            store.publish(
                PublishRequest.fromBytes(
                    options.studentName() + "-int8", int8.model(), Role.STUDENT, student.id(), m));
        progress.accept("published " + int8Student.id());
      } catch (IllegalArgumentException e) {
        // the quantizer refuses an INT8 model that fails its accuracy gate or is slower than FP32
        progress.accept("no INT8 student: " + e.getMessage());
      }
    }
    return new Result(teacher, student, int8Student);
  }
}
