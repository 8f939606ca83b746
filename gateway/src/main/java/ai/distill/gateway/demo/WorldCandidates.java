package ai.distill.gateway.demo;

import ai.distill.optimizer.world.CtrWorld;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Random;

/**
 * Candidate lists drawn from the demo CTR world, as OIP inputs {@code dense} FP32 [k, 13] and
 * {@code sparse} INT64 [k, 26] — the signature of the models {@code DemoModels} builds from that
 * world. Thread-safe (the world is immutable).
 */
public final class WorldCandidates implements TrafficSimulator.CandidateSource {

  private final CtrWorld world;
  private final int candidates;
  private volatile double denseShift;

  public WorldCandidates(CtrWorld world, int candidates) {
    if (candidates <= 0) {
      throw new IllegalArgumentException("candidates : " + candidates + " (expected: > 0)");
    }
    this.world = world;
    this.candidates = candidates;
  }

  /**
   * Moves the population of the candidates drawn from now on: dense features by {@code sigmas}
   * standard deviations (see {@link CtrWorld#sampleRow(Random, double)}).
   */
  public void shift(double sigmas) {
    this.denseShift = sigmas;
  }

  @Override
  public TrafficSimulator.Candidates draw(Random random) {
    double shift = denseShift;
    JsonArray dense = new JsonArray();
    JsonArray sparse = new JsonArray();
    double[] truth = new double[candidates];
    for (int i = 0; i < candidates; i++) {
      CtrWorld.Sample sample = world.sampleRow(random, shift);
      for (float v : sample.dense()) {
        dense.add(v);
      }
      for (long id : sample.sparse()) {
        sparse.add(id);
      }
      truth[i] = sample.clickProbability();
    }
    JsonArray inputs =
        new JsonArray()
            .add(input("dense", "FP32", CtrWorld.DENSE, dense))
            .add(input("sparse", "INT64", CtrWorld.FIELDS, sparse));
    return new TrafficSimulator.Candidates(inputs, truth);
  }

  private JsonObject input(String name, String datatype, int width, JsonArray data) {
    return new JsonObject()
        .put("name", name)
        .put("datatype", datatype)
        .put("shape", new JsonArray().add(candidates).add(width))
        .put("data", data);
  }
}
