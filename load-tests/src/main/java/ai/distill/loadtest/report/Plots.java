package ai.distill.loadtest.report;

import ai.distill.loadtest.LoadTestException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** Draws the report's PNG plots with XChart (headless). Stateless. */
public final class Plots {
  static final int WIDTH = 900;
  static final int HEIGHT = 520;

  private Plots() {}

  /**
   * Latency percentiles (p50, p99, p99.9) against offered load in rows/s (achieved rows/s for
   * closed-loop steps), one line per variant; returns false (and writes nothing) when there is
   * nothing to plot.
   */
  public static boolean latencyVsLoad(List<Measurement> sweep, String title, Path png) {
    Map<String, List<Measurement>> byVariant = byVariant(sweep);
    if (byVariant.isEmpty()) {
      return false;
    }
    XYChart chart =
        new XYChartBuilder()
            .width(WIDTH)
            .height(HEIGHT)
            .title(title)
            .xAxisTitle("offered load (rows/s)")
            .yAxisTitle("latency (ms)")
            .build();
    chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
    chart.getStyler().setYAxisLogarithmic(true);
    for (Map.Entry<String, List<Measurement>> e : byVariant.entrySet()) {
      List<Measurement> ms = new ArrayList<>(e.getValue());
      ms.sort((a, b) -> Double.compare(offered(a), offered(b)));
      double[] x = ms.stream().mapToDouble(Plots::offered).toArray();
      String prefix = byVariant.size() > 1 ? e.getKey() + " " : "";
      chart
          .addSeries(
              prefix + "p50",
              x,
              ms.stream().mapToDouble(m -> Math.max(0.001, m.latency().p50())).toArray())
          .setMarker(SeriesMarkers.CIRCLE);
      chart
          .addSeries(
              prefix + "p99",
              x,
              ms.stream().mapToDouble(m -> Math.max(0.001, m.latency().p99())).toArray())
          .setMarker(SeriesMarkers.DIAMOND);
      chart
          .addSeries(
              prefix + "p99.9",
              x,
              ms.stream().mapToDouble(m -> Math.max(0.001, m.latency().p999())).toArray())
          .setMarker(SeriesMarkers.SQUARE);
    }
    save(chart, png);
    return true;
  }

  /** One bar per variant: rows/s through the gateway, and in-process when measured. */
  public static boolean throughputPerVariant(
      List<Measurement> measurements, String title, Path png) {
    Map<String, Double> gateway = new LinkedHashMap<>();
    Map<String, Double> inProcess = new LinkedHashMap<>();
    for (Measurement m : measurements) {
      Map<String, Double> target = "in-process".equals(m.target()) ? inProcess : gateway;
      target.merge(m.variant(), m.rowsPerSecond(), Math::max);
    }
    if (gateway.isEmpty() && inProcess.isEmpty()) {
      return false;
    }
    List<String> variants = new ArrayList<>(gateway.keySet());
    inProcess.keySet().stream().filter(v -> !variants.contains(v)).forEach(variants::add);
    CategoryChart chart =
        new CategoryChartBuilder()
            .width(WIDTH)
            .height(HEIGHT)
            .title(title)
            .xAxisTitle("variant")
            .yAxisTitle("rows/s")
            .build();
    chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
    if (!gateway.isEmpty()) {
      chart.addSeries(
          "gateway",
          variants,
          variants.stream().map(v -> (Number) gateway.getOrDefault(v, 0.0)).toList());
    }
    if (!inProcess.isEmpty()) {
      chart.addSeries(
          "in-process ORT",
          variants,
          variants.stream().map(v -> (Number) inProcess.getOrDefault(v, 0.0)).toList());
    }
    save(chart, png);
    return true;
  }

  static double offered(Measurement m) {
    return "open".equals(m.mode()) ? m.load() * m.rowsPerRequest() : m.rowsPerSecond();
  }

  private static Map<String, List<Measurement>> byVariant(List<Measurement> ms) {
    Map<String, List<Measurement>> out = new LinkedHashMap<>();
    for (Measurement m : ms) {
      if (m.latency().count() > 0) {
        out.computeIfAbsent(m.variant(), k -> new ArrayList<>()).add(m);
      }
    }
    return out;
  }

  private static void save(org.knowm.xchart.internal.chartpart.Chart<?, ?> chart, Path png) {
    System.setProperty("java.awt.headless", "true");
    try (OutputStream out = Files.newOutputStream(png)) {
      BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG);
    } catch (IOException e) {
      throw new LoadTestException("cannot write plot " + png + ": " + e.getMessage(), e);
    }
  }
}
