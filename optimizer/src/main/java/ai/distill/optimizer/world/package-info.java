/**
 * The synthetic CTR world and the demo's models.
 *
 * <p>{@link ai.distill.optimizer.world.CtrWorld}: seeded world (13 log-normal dense features, 26
 * Zipf categorical fields, hidden click probability with field interactions) that draws rows,
 * clicks and ground truth; {@link ai.distill.optimizer.world.DemoTeacher} trains the demo teacher
 * on it; {@link ai.distill.optimizer.world.DemoModels} publishes teacher, distilled student and
 * INT8 student. Depends on {@code distill} (never the other way round).
 */
package ai.distill.optimizer.world;
