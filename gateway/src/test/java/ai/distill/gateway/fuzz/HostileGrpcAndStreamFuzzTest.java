package ai.distill.gateway.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.fuzz.FuzzGateway.Answer;
import ai.distill.gateway.fuzz.GrpcWire.Call;
import ai.distill.gateway.grpc.proto.ModelInferResponse;
import ai.distill.gateway.grpc.proto.ModelStreamInferResponse;
import com.google.protobuf.InvalidProtocolBufferException;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;

/**
 * Property-based fuzzing of the gRPC service and the NDJSON stream (jqwik, same gateway and seed as
 * {@link HostileRequestsFuzzTest}). gRPC: a hostile {@code ModelInfer} message ends with a status
 * that is the client's fault, never INTERNAL, UNKNOWN, UNAVAILABLE or DATA_LOSS and never no
 * answer; inside a {@code ModelStreamInfer} call every message gets one response in order, correct
 * messages their correct scores, bad ones an error naming them, and the call ends OK; frames that
 * lie about their length or flags and wrong headers are refused. All gRPC calls share one HTTP/2
 * connection, which no call may cost, and none is ever resent. NDJSON: every non-blank line gets
 * one answer line in order ({@code outputs} or {@code error}), correct rows score exactly like a
 * fresh ORT session, unknown names are a 404 JSON. Correct unary gRPC requests are checked every
 * 100 tries.
 */
class HostileGrpcAndStreamFuzzTest {

  /** Statuses a hostile gRPC request must never get. */
  static final Set<Integer> SERVER_FAULTS =
      Set.of(2, 13, 14, 15); // UNKNOWN INTERNAL UNAVAILABLE DATA_LOSS

  private static final AtomicLong tries = new AtomicLong();

  static void checkUnary(HostileGrpc.Message m) {
    FuzzGateway g = FuzzGateway.get();
    g.hostile.incrementAndGet();
    Call c = onOneConnection(g, "ModelInfer", GrpcWire.frame(m.bytes()), GRPC);
    assertServedCleanly(c, m.toString());
    if (m.clientFault()) {
      assertNotEquals(0, c.status(), "a hostile message was served: " + m);
    }
    if (c.status() == 0) {
      assertEquals(1, c.messages().size(), c.toString());
      try {
        ModelInferResponse.parseFrom(c.messages().get(0));
      } catch (InvalidProtocolBufferException e) {
        throw new AssertionError("an OK answer that is not a ModelInferResponse", e);
      }
    }
    every100();
  }

  private static final Map<String, String> GRPC =
      Map.of("content-type", "application/grpc", "te", "trailers");

  // Every gRPC call goes on the one HTTP/2 connection the previous calls used: a hostile call must
  // neither get its connection closed nor leave it unable to answer the next one.
  private static Call onOneConnection(
      FuzzGateway g, String method, Buffer body, Map<String, String> headers) {
    long before = Math.max(1, g.grpc.connections());
    Call c = g.grpc(method, body, headers);
    assertEquals(before, g.grpc.connections(), "the server closed the connection: " + c);
    return c;
  }

  static void assertServedCleanly(Call c, String what) {
    assertTrue(c.problem() == null, "no answer to " + what + ": " + c);
    assertTrue(c.status() >= 0, "no grpc-status for " + what + ": " + c);
    assertFalse(SERVER_FAULTS.contains(c.status()), c + " for " + what);
    if (c.status() != 0) {
      assertFalse(c.message().isBlank(), "no grpc-message for " + what + ": " + c);
    }
  }

  private static void every100() {
    if (tries.incrementAndGet() % 100 == 0) {
      FuzzGateway.get().checkGrpcStillCorrect();
    }
  }

  @Property(tries = 1200, seed = HostileRequestsFuzzTest.SEED, shrinking = ShrinkingMode.BOUNDED)
  void hostile_model_infer_messages_get_a_client_error_status(
      @ForAll("messages") HostileGrpc.Message m) {
    checkUnary(m);
  }

  @Property(tries = 200, seed = HostileRequestsFuzzTest.SEED, shrinking = ShrinkingMode.BOUNDED)
  void a_stream_answers_every_message_in_order_and_good_ones_correctly(
      @ForAll("streamMessages") List<HostileGrpc.Message> hostile, @ForAll("positions") int valid) {
    FuzzGateway g = FuzzGateway.get();
    Buffer body = Buffer.buffer();
    int validAt = valid % (hostile.size() + 1);
    int n = 0;
    for (int i = 0; i <= hostile.size(); i++) {
      if (i == validAt) {
        body.appendBuffer(GrpcWire.frame(HostileGrpc.valid("ctr", i % 2 == 0).toByteArray()));
        n++;
      }
      if (i < hostile.size()) {
        body.appendBuffer(GrpcWire.frame(hostile.get(i).bytes()));
        n++;
      }
    }
    g.hostile.addAndGet(n - 1);
    Call c = onOneConnection(g, "ModelStreamInfer", body, GRPC);
    assertServedCleanly(c, hostile.toString());
    assertEquals(0, c.status(), c.toString());
    assertEquals(n, c.messages().size(), "one response per message: " + c);
    for (int i = 0, h = 0; i < n; i++) {
      ModelStreamInferResponse r;
      try {
        r = ModelStreamInferResponse.parseFrom(c.messages().get(i));
      } catch (InvalidProtocolBufferException e) {
        throw new AssertionError(e);
      }
      if (i == validAt) {
        assertTrue(r.getErrorMessage().isEmpty(), "the correct message failed: " + r);
        g.assertGrpcScores(r.getInferResponse());
      } else {
        HostileGrpc.Message m = hostile.get(h++);
        if (m.clientFault()) {
          assertFalse(r.getErrorMessage().isEmpty(), "a hostile message was served: " + m);
        }
      }
    }
    every100();
  }

  @Property(tries = 400, seed = HostileRequestsFuzzTest.SEED, shrinking = ShrinkingMode.BOUNDED)
  void frames_and_headers_that_lie_are_refused(@ForAll("wire") WireCase w) {
    FuzzGateway g = FuzzGateway.get();
    g.hostile.incrementAndGet();
    Call c = onOneConnection(g, w.method(), w.body(), w.headers());
    assertTrue(c.problem() == null, "no answer to " + w + ": " + c);
    if (c.status() < 0) {
      // no gRPC answer: only for requests that are not gRPC at all (wrong content type)
      assertTrue(c.httpStatus() >= 400 && c.httpStatus() < 500, w + " -> " + c);
    } else {
      assertFalse(SERVER_FAULTS.contains(c.status()), w + " -> " + c);
      if (w.mustFail()) {
        assertNotEquals(0, c.status(), w + " -> " + c);
      }
    }
    every100();
  }

  @Property(tries = 400, seed = HostileRequestsFuzzTest.SEED, shrinking = ShrinkingMode.BOUNDED)
  void every_ndjson_line_gets_one_answer_in_order_and_good_rows_score_correctly(
      @ForAll("streams") HostileStreams.Stream s) {
    FuzzGateway g = FuzzGateway.get();
    g.hostile.incrementAndGet();
    Answer a =
        g.send(
            HttpMethod.POST,
            "/v1/models/" + s.model() + "/stream",
            Map.of("Content-Type", "application/x-ndjson"),
            Buffer.buffer(s.body()));
    assertTrue(a.status() > 0 && a.status() < 500, a + " for " + s);
    if (s.mustFail()) {
      assertTrue(a.status() >= 400, a + " for " + s);
    }
    if (a.status() != 200) {
      assertTrue(a.body().toJsonObject().getString("error") != null, a.toString());
      return;
    }
    String text = a.body().toString(StandardCharsets.UTF_8);
    String[] out = text.isEmpty() ? new String[0] : text.split("\n");
    List<HostileStreams.Line> rows = s.lines().stream().filter(l -> !blank(l.bytes())).toList();
    if (s.oversized()) {
      assertTrue(out.length <= rows.size(), a.toString());
    } else {
      assertEquals(rows.size(), out.length, "one answer per line: " + a + " for " + s);
    }
    for (int i = 0; i < out.length; i++) {
      JsonObject line = new JsonObject(out[i]);
      assertEquals(i, line.getInteger("row"), out[i]);
      assertTrue(line.containsKey("outputs") ^ line.containsKey("error"), out[i]);
      int validRow = rows.get(i).validRow();
      if (validRow >= 0 && s.scored()) {
        assertTrue(line.containsKey("outputs"), "a correct row failed: " + out[i] + " in " + s);
        g.assertRowScore(validRow, line.getJsonObject("outputs").getJsonArray("prob").getFloat(0));
      }
    }
    every100();
  }

  private static boolean blank(byte[] b) {
    return b.length == 0 || (b.length == 1 && b[0] == '\r');
  }

  /** A gRPC request that is wrong at the wire. */
  record WireCase(
      String surface, String method, Buffer body, Map<String, String> headers, boolean mustFail) {
    @Override
    public String toString() {
      return surface + " " + method + " " + headers + " body " + body.length() + " bytes";
    }
  }

  @Provide
  Arbitrary<HostileGrpc.Message> messages() {
    return HostileGrpc.messages();
  }

  @Provide
  Arbitrary<List<HostileGrpc.Message>> streamMessages() {
    return HostileGrpc.messages().list().ofMinSize(1).ofMaxSize(6);
  }

  @Provide
  Arbitrary<Integer> positions() {
    return Arbitraries.integers().between(0, 100);
  }

  @Provide
  Arbitrary<HostileStreams.Stream> streams() {
    return HostileStreams.streams();
  }

  @Provide
  Arbitrary<WireCase> wire() {
    Map<String, String> grpc = Map.of("content-type", "application/grpc", "te", "trailers");
    Arbitrary<byte[]> valid =
        Arbitraries.of(true, false).map(raw -> HostileGrpc.valid("ctr", raw).toByteArray());
    Arbitrary<WireCase> lyingLength =
        Combinators.combine(valid, Arbitraries.of(1, 2, 7, 30))
            .as(
                (b, delta) ->
                    new WireCase(
                        "wire/length -" + delta,
                        "ModelInfer",
                        GrpcWire.frame(0, b.length - delta, b),
                        grpc,
                        false));
    Arbitrary<WireCase> tooLarge =
        Combinators.combine(valid, Arbitraries.of(1L << 20, 300L << 20, (long) Integer.MAX_VALUE))
            .as(
                (b, claimed) ->
                    new WireCase(
                        "wire/length " + claimed,
                        "ModelInfer",
                        GrpcWire.frame(0, claimed, b),
                        grpc,
                        true));
    Arbitrary<WireCase> twoMessages =
        valid.map(
            b ->
                new WireCase(
                    "wire/two-unary-messages",
                    "ModelInfer",
                    GrpcWire.frame(b).appendBuffer(GrpcWire.frame(b)),
                    grpc,
                    false));
    Arbitrary<WireCase> unknownMethod =
        Arbitraries.of("Nope", "modelinfer", "ModelInfer/extra", "%2e%2e/ModelInfer")
            .map(
                m ->
                    new WireCase(
                        "wire/unknown-method", m, GrpcWire.frame(new byte[0]), grpc, true));
    Arbitrary<WireCase> claimsMore =
        Combinators.combine(valid, Arbitraries.of(1, 2, 7, 30))
            .as(
                (b, delta) ->
                    new WireCase(
                        "wire/length +" + delta,
                        "ModelInfer",
                        GrpcWire.frame(0, b.length + delta, b),
                        grpc,
                        true));
    Arbitrary<WireCase> shortPrefix =
        Arbitraries.integers()
            .between(1, 4)
            .map(
                n ->
                    new WireCase(
                        "wire/prefix of " + n + " bytes",
                        "ModelInfer",
                        GrpcWire.frame(new byte[0]).slice(0, n),
                        grpc,
                        true));
    Arbitrary<WireCase> compressed =
        Combinators.combine(valid, Arbitraries.of("none", "identity", "gzip"))
            .as(
                (b, encoding) ->
                    new WireCase(
                        "wire/flagged compressed, grpc-encoding " + encoding,
                        "ModelInfer",
                        GrpcWire.frame(1, b.length, b), // never gzip data
                        encoding.equals("none")
                            ? grpc
                            : Map.of(
                                "content-type",
                                "application/grpc",
                                "te",
                                "trailers",
                                "grpc-encoding",
                                encoding),
                        true));
    Arbitrary<WireCase> metadataGarbage =
        Combinators.combine(
                Arbitraries.of(
                    "ModelMetadata", "ModelReady", "RepositoryIndex", "RepositoryModelLoad"),
                Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(40))
            .as(
                (m, junk) -> {
                  byte[] b = junk.clone();
                  b[0] = (byte) 0xff; // field 31, wire type 7: never valid protobuf
                  return new WireCase("wire/metadata garbage", m, GrpcWire.frame(b), grpc, true);
                });
    return Arbitraries.oneOf(
        lyingLength,
        tooLarge,
        twoMessages,
        unknownMethod,
        claimsMore,
        shortPrefix,
        compressed,
        metadataGarbage);
  }
}
