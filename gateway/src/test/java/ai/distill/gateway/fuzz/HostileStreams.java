package ai.distill.gateway.fuzz;

import java.nio.charset.StandardCharsets;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

/**
 * jqwik generators of hostile NDJSON streams for {@code POST /v1/models/{m}/stream}: correct rows
 * mixed with broken and truncated JSON, deep nesting, non-finite and huge numbers, wrong counts and
 * types, unicode, NUL and invalid UTF-8 bytes, CRLF, and now and then one line over the 1 MiB line
 * limit. A correct row's position is remembered so its score can be checked. Pure: no I/O.
 */
final class HostileStreams {

  private HostileStreams() {}

  /** One line; {@code validRow} is 0 or 1 for a correct row (which CTR row), -1 otherwise. */
  record Line(byte[] bytes, int validRow) {
    static Line text(String s) {
      return new Line(s.getBytes(StandardCharsets.UTF_8), -1);
    }
  }

  /**
   * A stream: the target name, its lines (each sent with a trailing newline); {@code mustFail} for
   * a name that cannot exist, {@code scored} for the CTR models whose scores the test knows.
   */
  record Stream(String surface, String model, List<Line> lines, boolean mustFail, boolean scored) {
    byte[] body() {
      java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
      for (Line l : lines) {
        out.writeBytes(l.bytes());
        out.write('\n');
      }
      return out.toByteArray();
    }

    boolean oversized() {
      return lines.stream().anyMatch(l -> l.bytes().length > (1 << 20));
    }

    @Override
    public String toString() {
      StringBuilder b = new StringBuilder(surface + " " + model + ":");
      for (Line l : lines) {
        String s = new String(l.bytes(), StandardCharsets.UTF_8);
        b.append("\n  ")
            .append(s.length() > 200 ? s.substring(0, 200) + "...(" + s.length() + ")" : s);
      }
      return b.toString();
    }
  }

  static String row(int r) {
    float[] d = HostileGrpc.DENSE;
    long[] s = HostileGrpc.SPARSE;
    return "{\"inputs\":{\"dense\":["
        + d[3 * r]
        + ","
        + d[3 * r + 1]
        + ","
        + d[3 * r + 2]
        + "],\"sparse\":["
        + s[2 * r]
        + ","
        + s[2 * r + 1]
        + "]},\"user_id\":\"u"
        + r
        + "\"}";
  }

  static Arbitrary<Line> lines() {
    Arbitrary<Line> valid =
        Arbitraries.of(0, 1).map(r -> new Line(row(r).getBytes(StandardCharsets.UTF_8), r));
    Arbitrary<Line> truncated =
        Combinators.combine(Arbitraries.of(0, 1), Arbitraries.integers().between(0, 99))
            .as((r, f) -> Line.text(row(r).substring(0, row(r).length() * f / 100)));
    Arbitrary<Line> fixed =
        Arbitraries.of(
                "{\"inputs\":{\"dense\":[NaN,1,2],\"sparse\":[1,2]}}",
                "{\"inputs\":{\"dense\":[\"NaN\",1,2],\"sparse\":[1,2]}}",
                "{\"inputs\":{\"dense\":[1e999,1,2],\"sparse\":[1,2]}}",
                "{\"inputs\":{\"dense\":[1,2],\"sparse\":[1,2]}}",
                "{\"inputs\":{\"dense\":[1,2,3,4],\"sparse\":[1,2]}}",
                "{\"inputs\":{\"dense\":[[1,2,3]],\"sparse\":[1,2]}}",
                "{\"inputs\":{\"dense\":[1,2,3],\"sparse\":[1.5,2]}}",
                "{\"inputs\":{\"dense\":[1,2,3],\"sparse\":[\"a\",2]}}",
                "{\"inputs\":{\"dense\":[1,2,3],\"sparse\":[99999999999999999999999,2]}}",
                "{\"inputs\":{\"dense\":[1,2,3]}}",
                "{\"inputs\":{\"dense\":[1,2,3],\"sparse\":[1,2],\"x\":[1]}}",
                "{\"inputs\":{\"dense\":[1,2,3],\"sparse\":[1,2],\"dense\":[1,2,3]}}",
                "{\"inputs\":[1,2,3]}",
                "{\"inputs\":null}",
                "{}",
                "[]",
                "null",
                "\"inputs\"",
                "{\"inputs\":{\"dense\":[1,2,3],\"sparse\":[1,2]},\"user_id\":{\"a\":[1]}}",
                "{\"inputs\":{\"dense\":[1,2,3],\"sparse\":[1,2]},\"user_id\":\"\u202e\u0000😀\"}",
                "{\"inputs\":{\"dense\":[1,2,3],\"sparse\":[1,2]}} trailing",
                "{\"inputs\":{\"dense\":[1,2,3],\"sparse\":[1,2]}}{\"inputs\":{}}",
                "{\"inputs\":{\"dénse\":[1,2,3],\"spärse\":[1,2]}}",
                "\u0000\u0000\u0000",
                "\r",
                "   ",
                "{\"inputs\":{\"dense\":[1,2,3],\"sparse\":[1,2]}}\r")
            .map(Line::text);
    Arbitrary<Line> nested =
        Arbitraries.integers()
            .between(60, 5_000)
            .map(n -> Line.text("[".repeat(n) + "]".repeat(n)));
    Arbitrary<Line> garbage =
        Arbitraries.oneOf(
            Arbitraries.strings().all().ofMaxLength(200).map(s -> Line.text(s.replace("\n", ""))),
            Arbitraries.bytes()
                .array(byte[].class)
                .ofMaxSize(200)
                .map(b -> new Line(strip(b), -1)));
    Arbitrary<Line> wide =
        Arbitraries.integers()
            .between(3, 30_000)
            .map(
                n ->
                    Line.text(
                        "{\"inputs\":{\"dense\":[" + "1,".repeat(n) + "1],\"sparse\":[1,2]}}"));
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(4, valid),
        net.jqwik.api.Tuple.of(2, truncated),
        net.jqwik.api.Tuple.of(5, fixed),
        net.jqwik.api.Tuple.of(1, nested),
        net.jqwik.api.Tuple.of(2, garbage),
        net.jqwik.api.Tuple.of(1, wide));
  }

  private static byte[] strip(byte[] b) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    for (byte x : b) {
      if (x != '\n') {
        out.write(x);
      }
    }
    return out.toByteArray();
  }

  static Arbitrary<Stream> streams() {
    Arbitrary<String> known = Arbitraries.of("ctr", "ctr-b", "ab");
    Arbitrary<Stream> normal =
        Combinators.combine(known, lines().list().ofMinSize(1).ofMaxSize(40))
            .as((m, l) -> new Stream("stream/lines", m, l, false, true));
    Arbitrary<Stream> badName =
        Combinators.combine(HostileRequests.hostileNames(), lines().list().ofMaxSize(3))
            .as(
                (m, l) ->
                    new Stream(
                        "stream/name",
                        HostileRequests.encode(m),
                        l,
                        !HostileRequests.mayExist(m),
                        false));
    Arbitrary<Stream> huge =
        Combinators.combine(known, Arbitraries.integers().between((1 << 20) + 1, (1 << 20) + 4096))
            .as(
                (m, n) ->
                    new Stream(
                        "stream/huge-line",
                        m,
                        List.of(
                            new Line(row(0).getBytes(StandardCharsets.UTF_8), 0),
                            Line.text("{\"inputs\":{\"dense\":[" + " ".repeat(n) + "]}}"),
                            new Line(row(1).getBytes(StandardCharsets.UTF_8), 1)),
                        false,
                        true));
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(40, normal),
        net.jqwik.api.Tuple.of(8, badName),
        net.jqwik.api.Tuple.of(1, huge));
  }
}
