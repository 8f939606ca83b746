package ai.distill.gateway.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.distill.gateway.Gateway;
import ai.distill.gateway.testing.TestGateways;
import ai.distill.optimizer.onnx.TinyModels;
import ai.distill.store.ModelStore;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A client that streams rows in and never reads the answers: the gateway stops reading it
 * (backpressure), and once nothing was read for {@code stream.stall_timeout_ms} it fails the stream
 * frees everything the stream held, and closes the connection at once (the answers queued for it
 * are dropped, not flushed to a client that does not read).
 */
class StreamStallTest {

  @TempDir Path dir;

  @Test
  void a_client_that_never_reads_is_cut_off_and_its_rows_freed() throws Exception {
    ModelStore store = ModelStore.open(dir);
    TestGateways.publish(store, "tiny", TinyModels.mlp(4, new int[] {4}, 3));
    Vertx vertx = TestGateways.strictVertx();
    Gateway gateway =
        Gateway.start(
                vertx, TestGateways.config(dir).streamStallTimeout(Duration.ofMillis(500)).build())
            .await();
    try (Socket socket = new Socket()) {
      socket.setReceiveBufferSize(4096); // read nothing, and hold little in the kernel either
      socket.connect(new InetSocketAddress("127.0.0.1", gateway.port()));
      OutputStream out = socket.getOutputStream();
      out.write(
          ("POST /v1/models/tiny/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  + "Content-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      CompletableFuture<Long> written =
          CompletableFuture.supplyAsync(
              () -> {
                long rows = 0;
                StringBuilder chunk = new StringBuilder();
                try {
                  while (rows < 50_000_000) {
                    chunk.setLength(0);
                    for (int i = 0; i < 1_000; i++, rows++) {
                      chunk.append(NdjsonStreamTest.row(rows));
                    }
                    byte[] data = chunk.toString().getBytes(StandardCharsets.UTF_8);
                    out.write(
                        (Integer.toHexString(data.length) + "\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                    out.write(data);
                    out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                  }
                  return -rows; // never cut off
                } catch (IOException e) {
                  return rows; // the gateway closed the connection
                }
              });

      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (gateway.streamStats().stalled() == 0 && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertEquals(1, gateway.streamStats().stalled(), "the stalled stream was failed");
      while (gateway.streamStats().open() > 0 && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertEquals(0, gateway.streamStats().open());
      assertEquals(0, gateway.streamStats().bufferedRows(), "nothing left buffered");
      assertTrue(
          gateway.streamStats().maxBufferedRows() <= 768,
          "bounded while it lasted: " + gateway.streamStats().maxBufferedRows());
      // The gateway closed the socket itself (it does not wait for the client to read or leave):
      // the writer fails, and reading finds the end of the connection after what was in flight.
      assertTrue(written.get(30, TimeUnit.SECONDS) > 0, "the writer saw its socket closed");
      socket.setSoTimeout(30_000);
      assertTrue(readsToTheEnd(socket.getInputStream()), "the reader saw the connection closed");
    } finally {
      gateway.close().await();
      vertx.close().await();
    }
  }

  // True at the end of the stream or on a reset; a read timeout (the connection lingers) fails.
  private static boolean readsToTheEnd(InputStream in) throws IOException {
    byte[] buffer = new byte[1 << 16];
    try {
      while (in.read(buffer) >= 0) {
        // what the gateway sent before it closed
      }
      return true;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (SocketException e) {
      return true; // "Connection reset": closed with our rows still unread on its side
    }
  }
}
