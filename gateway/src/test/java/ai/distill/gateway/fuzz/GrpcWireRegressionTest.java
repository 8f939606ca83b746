package ai.distill.gateway.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.fuzz.GrpcWire.Call;
import org.junit.jupiter.api.Test;

/** gRPC frames and bodies that lie, one by one: each call ends with a clean status. */
class GrpcWireRegressionTest {

  private static final byte[] VALID = HostileGrpc.valid("ctr", false).toByteArray();

  private static Call call(String method, io.vertx.core.buffer.Buffer body) {
    return FuzzGateway.get().grpc(method, body);
  }

  @Test
  void a_frame_claiming_one_byte_more_than_sent_is_refused() {
    Call c = call("ModelInfer", GrpcWire.frame(0, VALID.length + 1, VALID));
    assertNull(c.problem(), c.toString());
    assertEquals(3, c.status(), c.toString()); // INVALID_ARGUMENT
  }

  @Test
  void a_frame_claiming_more_than_the_message_limit_is_resource_exhausted() {
    Call c = call("ModelInfer", GrpcWire.frame(0, 300L << 20, VALID));
    assertNull(c.problem(), c.toString());
    assertEquals(8, c.status(), c.toString()); // RESOURCE_EXHAUSTED
  }

  @Test
  void an_empty_unary_call_is_refused() {
    Call c = call("ModelInfer", io.vertx.core.buffer.Buffer.buffer());
    assertNull(c.problem(), c.toString());
    assertEquals(3, c.status(), c.toString());
  }

  @Test
  void an_undecodable_model_metadata_request_is_invalid_argument() {
    Call c = call("ModelMetadata", GrpcWire.frame(new byte[] {(byte) 0xff, 1, 2, 3, 4, 5}));
    assertNull(c.problem(), c.toString());
    assertEquals(3, c.status(), c.toString());
    assertTrue(c.message().contains("malformed ModelMetadataRequest"), c.toString());
  }

  @Test
  void an_admin_rpc_without_the_token_is_refused_before_its_message_is_read() {
    Call c = call("RepositoryModelLoad", GrpcWire.frame(new byte[] {(byte) 0xff, 1, 2}));
    assertNull(c.problem(), c.toString());
    assertEquals(16, c.status(), c.toString()); // UNAUTHENTICATED, not a parse error
  }

  @Test
  void a_metadata_call_without_a_message_is_invalid_argument() {
    Call c = call("ServerLive", io.vertx.core.buffer.Buffer.buffer());
    assertNull(c.problem(), c.toString());
    assertEquals(3, c.status(), c.toString());
    assertTrue(c.message().contains("needs one ServerLiveRequest"), c.toString());
  }

  @Test
  void a_gzip_compressed_request_is_served() throws Exception {
    Call c = gzipCall("ModelInfer", GrpcWire.frame(1, gzip(VALID).length, gzip(VALID)));
    assertNull(c.problem(), c.toString());
    assertEquals(0, c.status(), c.toString());
    FuzzGateway.get()
        .assertGrpcScores(
            ai.distill.gateway.grpc.proto.ModelInferResponse.parseFrom(c.messages().get(0)));
  }

  @Test
  void a_gzip_bomb_is_resource_exhausted_not_inflated() throws Exception {
    byte[] bomb = gzip(new byte[4 * FuzzGateway.MAX_BODY_BYTES]); // a few KB on the wire
    Call c = gzipCall("ModelInfer", GrpcWire.frame(1, bomb.length, bomb));
    assertNull(c.problem(), c.toString());
    assertEquals(8, c.status(), c.toString());
    assertTrue(c.message().contains("inflates to more than"), c.toString());
  }

  @Test
  void a_stream_message_of_gzip_garbage_gets_an_error_response_and_the_stream_goes_on()
      throws Exception {
    byte[] gz = gzip(VALID);
    io.vertx.core.buffer.Buffer body =
        GrpcWire.frame(1, VALID.length, VALID) // flagged gzip, but not gzip
            .appendBuffer(GrpcWire.frame(1, gz.length, gz))
            .appendBuffer(GrpcWire.frame(VALID));
    Call c = gzipCall("ModelStreamInfer", body);
    assertNull(c.problem(), c.toString());
    assertEquals(0, c.status(), c.toString());
    assertEquals(3, c.messages().size(), c.toString());
    var garbage =
        ai.distill.gateway.grpc.proto.ModelStreamInferResponse.parseFrom(c.messages().get(0));
    assertTrue(garbage.getErrorMessage().contains("message 0"), garbage.toString());
    assertTrue(garbage.getErrorMessage().contains("does not inflate"), garbage.toString());
    for (int i = 1; i < 3; i++) {
      var r = ai.distill.gateway.grpc.proto.ModelStreamInferResponse.parseFrom(c.messages().get(i));
      assertEquals("", r.getErrorMessage(), r.toString());
      FuzzGateway.get().assertGrpcScores(r.getInferResponse());
    }
  }

  private static Call gzipCall(String method, io.vertx.core.buffer.Buffer body) {
    return encodedCall(method, body, "gzip");
  }

  /** A call declaring {@code grpc-encoding: encoding}. */
  private static Call encodedCall(
      String method, io.vertx.core.buffer.Buffer body, String encoding) {
    return FuzzGateway.get()
        .grpc(
            method,
            body,
            java.util.Map.of(
                "content-type", "application/grpc", "te", "trailers", "grpc-encoding", encoding));
  }

  private static byte[] gzip(byte[] data) throws java.io.IOException {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    try (java.util.zip.GZIPOutputStream z = new java.util.zip.GZIPOutputStream(out)) {
      z.write(data);
    }
    return out.toByteArray();
  }

  // gRPC's HTTP/2 protocol: without grpc-encoding the compressed flag must be 0. The client broke
  // the protocol, so INVALID_ARGUMENT (grpc-java and grpc-go say INTERNAL, which the gateway keeps
  // for its own faults); the connection serves the next call.
  @Test
  void a_compressed_flag_without_an_encoding_is_refused() {
    GrpcWire wire = FuzzGateway.get().grpc;
    long connections = wire.connections();
    Call c = call("ModelInfer", GrpcWire.frame(1, VALID.length, VALID));
    assertNull(c.problem(), c.toString());
    assertEquals(3, c.status(), c.toString());
    assertTrue(c.message().contains("declares no grpc-encoding"), c.toString());
    Call identity = encodedCall("ModelInfer", GrpcWire.frame(1, VALID.length, VALID), "identity");
    assertEquals(3, identity.status(), identity.toString());
    Call next = call("ModelInfer", GrpcWire.frame(VALID));
    assertEquals(0, next.status(), next.toString());
    assertEquals(connections, wire.connections(), "the connection was closed");
  }

  @Test
  void a_zero_length_model_infer_message_names_the_missing_model() {
    Call c = call("ModelInfer", GrpcWire.frame(new byte[0]));
    assertNull(c.problem(), c.toString());
    assertEquals(3, c.status(), c.toString());
  }

  @Test
  void a_stream_message_that_is_not_protobuf_gets_an_error_response() {
    Call c = call("ModelStreamInfer", GrpcWire.frame(new byte[] {127}));
    assertNull(c.problem(), c.toString());
    assertEquals(0, c.status(), c.toString());
    assertEquals(1, c.messages().size(), c.toString());
  }

  @Test
  void gzip_garbage_is_refused_with_a_status() {
    Call c = encodedCall("ModelInfer", GrpcWire.frame(1, VALID.length, VALID), "gzip");
    assertNull(c.problem(), c.toString());
    assertEquals(3, c.status(), c.toString());
    assertTrue(c.message().contains("does not inflate"), c.toString());
  }

  @Test
  void an_unknown_encoding_is_unimplemented() {
    Call c = encodedCall("ModelInfer", GrpcWire.frame(1, VALID.length, VALID), "snappy");
    assertNull(c.problem(), c.toString());
    assertEquals(12, c.status(), c.toString());
  }

  @Test
  void a_stream_answers_every_large_message() {
    io.vertx.core.buffer.Buffer body = io.vertx.core.buffer.Buffer.buffer();
    ai.distill.gateway.grpc.proto.ModelInferRequest.Builder big =
        HostileGrpc.valid("ctr", false).toBuilder();
    ai.distill.gateway.grpc.proto.InferTensorContents.Builder c30k =
        ai.distill.gateway.grpc.proto.InferTensorContents.newBuilder();
    for (int i = 0; i < 30_000; i++) {
      c30k.addFp32Contents(0.5f);
    }
    big.setInputs(0, big.getInputs(0).toBuilder().setContents(c30k));
    for (int i = 0; i < 6; i++) {
      body.appendBuffer(GrpcWire.frame(big.build().toByteArray()));
    }
    body.appendBuffer(GrpcWire.frame(VALID));
    Call c = FuzzGateway.get().grpc("ModelStreamInfer", body);
    assertNull(c.problem(), c.toString());
    assertEquals(0, c.status(), c.toString());
    assertEquals(7, c.messages().size(), c.toString());
  }

  @Test
  void many_hostile_calls_leave_their_connection_usable() {
    GrpcWire wire = FuzzGateway.get().grpc;
    call("ServerLive", GrpcWire.frame(new byte[0])); // the connection is open
    long connections = wire.connections();
    byte[] junk = new byte[120_000];
    java.util.Arrays.fill(junk, (byte) 0x7f);
    for (int i = 0; i < 30; i++) {
      Call c = call("ModelInfer", GrpcWire.frame(junk));
      assertNull(c.problem(), c.toString());
    }
    Call c = call("ModelInfer", GrpcWire.frame(VALID));
    assertEquals(0, c.status(), c.toString());
    assertEquals(connections, wire.connections(), "the connection was closed");
  }
}
