package ai.distill.gateway.fuzz;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A bare HTTP/1.1 client on one socket, for what a real client library hides: several requests on
 * one keep-alive connection written byte for byte as given, bytes dribbled one at a time
 * (slow-loris), and answers that never come (a read timeout, not a retry). Reads answers with
 * {@code Content-Length} or chunked. Not thread-safe; one per test.
 */
final class RawHttp implements AutoCloseable {

  /** An answer: status (0 when the connection closed or timed out first), headers, body. */
  record Reply(int status, Map<String, String> headers, byte[] body, String problem) {
    String text() {
      return new String(body, StandardCharsets.UTF_8);
    }

    boolean closes() {
      return "close".equalsIgnoreCase(headers.get("connection"));
    }

    @Override
    public String toString() {
      return status == 0 ? "no answer (" + problem + ")" : status + " " + headers + " " + text();
    }
  }

  private final Socket socket;
  private final OutputStream out;
  private final InputStream in;

  RawHttp(int port, int readTimeoutMillis) throws IOException {
    socket = new Socket();
    socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
    socket.setSoTimeout(readTimeoutMillis);
    socket.setTcpNoDelay(true);
    out = socket.getOutputStream();
    in = socket.getInputStream();
  }

  /** The bytes of a request with {@code Content-Length} set from the body (when there is one). */
  static byte[] request(String method, String uri, Map<String, String> headers, byte[] body) {
    StringBuilder b = new StringBuilder(method).append(' ').append(uri).append(" HTTP/1.1\r\n");
    b.append("Host: 127.0.0.1\r\n");
    headers.forEach((k, v) -> b.append(k).append(": ").append(v).append("\r\n"));
    if (body != null) {
      b.append("Content-Length: ").append(body.length).append("\r\n");
    }
    b.append("\r\n");
    byte[] head = b.toString().getBytes(StandardCharsets.UTF_8);
    if (body == null) {
      return head;
    }
    byte[] all = new byte[head.length + body.length];
    System.arraycopy(head, 0, all, 0, head.length);
    System.arraycopy(body, 0, all, head.length, body.length);
    return all;
  }

  /** Writes bytes as they are. */
  void write(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
  }

  /** Sends one request and reads its answer. */
  Reply exchange(String method, String uri, Map<String, String> headers, byte[] body) {
    try {
      write(request(method, uri, headers, body));
    } catch (IOException e) {
      // the server may have answered and closed already: read what it said
    }
    return read();
  }

  /** Reads one answer, chunked or not. */
  Reply readChunked() {
    return read();
  }

  /** Reads one answer; status 0 when the socket timed out or closed before a whole answer. */
  Reply read() {
    try {
      String statusLine = line();
      if (statusLine == null) {
        return new Reply(0, Map.of(), new byte[0], "closed");
      }
      String[] parts = statusLine.split(" ", 3);
      int status = Integer.parseInt(parts[1]);
      Map<String, String> headers = new TreeMap<>();
      for (String h = line(); h != null && !h.isEmpty(); h = line()) {
        int colon = h.indexOf(':');
        headers.put(
            h.substring(0, colon).trim().toLowerCase(Locale.ROOT), h.substring(colon + 1).trim());
      }
      if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (String size = line(); ; size = line()) {
          if (size == null) {
            return new Reply(0, headers, body.toByteArray(), "closed inside the chunks");
          }
          int n = Integer.parseInt(size.split(";")[0].trim(), 16);
          if (n == 0) {
            for (String t = line(); t != null && !t.isEmpty(); t = line()) {
              // trailers: none expected
            }
            return new Reply(status, headers, body.toByteArray(), null);
          }
          byte[] chunk = in.readNBytes(n);
          body.writeBytes(chunk);
          if (chunk.length < n) {
            return new Reply(0, headers, body.toByteArray(), "closed inside a chunk");
          }
          line(); // CRLF after the chunk
        }
      }
      int length = Integer.parseInt(headers.getOrDefault("content-length", "0"));
      byte[] body = in.readNBytes(length);
      if (body.length < length) {
        return new Reply(0, headers, body, "closed inside the body");
      }
      return new Reply(status, headers, body, null);
    } catch (SocketTimeoutException e) {
      return new Reply(0, Map.of(), new byte[0], "timed out");
    } catch (IOException e) {
      return new Reply(0, Map.of(), new byte[0], e.toString());
    }
  }

  /** True when the server closed the connection (read returns end of stream) within the timeout. */
  boolean closedByServer() {
    try {
      return in.read() < 0;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true; // reset
    }
  }

  private String line() throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) >= 0) {
      if (c == '\n') {
        byte[] bytes = b.toByteArray();
        int n =
            bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
        return new String(bytes, 0, n, StandardCharsets.ISO_8859_1);
      }
      b.write(c);
    }
    return b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException e) {
      // closing anyway
    }
  }
}
