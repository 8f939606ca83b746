package ai.distill.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Tiny byte strings that pass {@link OnnxFileCheck}: a ModelProto with ir_version, an opset and a
 * named graph.
 */
public final class TestModels {

  private TestModels() {}

  /**
   * ir_version 8, opset 17, graph named {@code graphName}, padded with a doc_string of {@code
   * padding} bytes.
   */
  public static byte[] onnx(String graphName, int padding) {
    byte[] name = graphName.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    byte[] graph = concat(new byte[] {0x12, (byte) name.length}, name);
    byte[] doc = new byte[padding];
    Arrays.fill(doc, (byte) 'x');
    return concat(
        new byte[] {0x08, 0x08}, // ir_version = 8
        new byte[] {0x42, 0x02, 0x10, 0x11}, // opset_import { version: 17 }
        new byte[] {0x3a, (byte) graph.length},
        graph, // graph { name }
        varintField(6, doc.length),
        doc); // doc_string
  }

  public static byte[] onnx(String graphName) {
    return onnx(graphName, 0);
  }

  public static Path write(Path dir, String file, byte[] bytes) throws IOException {
    Path p = dir.resolve(file);
    Files.write(p, bytes);
    return p;
  }

  private static byte[] varintField(int field, int length) {
    byte[] out = new byte[6];
    int n = 0;
    out[n++] = (byte) (field << 3 | 2);
    int v = length;
    while ((v & ~0x7f) != 0) {
      out[n++] = (byte) ((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    out[n++] = (byte) v;
    return Arrays.copyOf(out, n);
  }

  private static byte[] concat(byte[]... parts) {
    int n = 0;
    for (byte[] p : parts) {
      n += p.length;
    }
    byte[] out = new byte[n];
    int o = 0;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, out, o, p.length);
      o += p.length;
    }
    return out;
  }
}
