package ai.distill.gateway.experiment;

/**
 * How closely a student's predictions follow the teacher's on shadow-scored rows: mean absolute
 * difference, rank agreement (share of concordant pairs, each row paired with the previous scored
 * row) and mean prediction ratio (Σ student / Σ teacher). Synchronized; O(1) memory.
 */
public final class ShadowAgreement {

  private long rows;
  private double sumAbsDiff;
  private double sumStudent;
  private double sumTeacher;
  private long pairs;
  private long concordant;
  private double lastStudent = Double.NaN;
  private double lastTeacher = Double.NaN;

  /** Adds paired predictions of one request (same length). */
  public synchronized void add(float[] student, float[] teacher) {
    if (student.length != teacher.length) {
      throw new IllegalArgumentException(
          "teacher predictions : " + teacher.length + " (expected: " + student.length + ")");
    }
    for (int i = 0; i < student.length; i++) {
      double s = student[i];
      double t = teacher[i];
      rows++;
      sumAbsDiff += Math.abs(s - t);
      sumStudent += s;
      sumTeacher += t;
      if (!Double.isNaN(lastStudent)) {
        double ds = s - lastStudent;
        double dt = t - lastTeacher;
        if (ds != 0 || dt != 0) {
          pairs++;
          if (Math.signum(ds) == Math.signum(dt)) {
            concordant++;
          }
        }
      }
      lastStudent = s;
      lastTeacher = t;
    }
  }

  /** Current figures (NaN when nothing was scored). */
  public record Snapshot(long rows, double meanAbsDiff, double rankAgreement, double meanRatio) {}

  public synchronized Snapshot snapshot() {
    return new Snapshot(
        rows,
        rows == 0 ? Double.NaN : sumAbsDiff / rows,
        pairs == 0 ? Double.NaN : (double) concordant / pairs,
        sumTeacher == 0 ? Double.NaN : sumStudent / sumTeacher);
  }

  synchronized void restore(
      long rows,
      double sumAbsDiff,
      double sumStudent,
      double sumTeacher,
      long pairs,
      long concordant) {
    this.rows = rows;
    this.sumAbsDiff = sumAbsDiff;
    this.sumStudent = sumStudent;
    this.sumTeacher = sumTeacher;
    this.pairs = pairs;
    this.concordant = concordant;
  }

  synchronized double[] sums() {
    return new double[] {rows, sumAbsDiff, sumStudent, sumTeacher, pairs, concordant};
  }
}
