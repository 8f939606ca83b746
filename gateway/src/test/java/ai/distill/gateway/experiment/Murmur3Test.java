package ai.distill.gateway.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class Murmur3Test {

  @Test
  void matches_reference_vectors() {
    assertEquals(0, Murmur3.hash32(new byte[0], 0));
    assertEquals(0x514E28B7, Murmur3.hash32(new byte[0], 1));
    assertEquals(0x81F16F39, Murmur3.hash32(new byte[0], 0xffffffff));
    assertEquals(0x2362F9DE, Murmur3.hash32(new byte[4], 0));
    assertEquals(0x7FA09EA6, Murmur3.hash32("a", 0x9747b28c));
    assertEquals(0xC84A62DD, Murmur3.hash32("abc", 0x9747b28c));
    assertEquals(0x5A97808A, Murmur3.hash32("aaaa", 0x9747b28c));
    assertEquals(0x24884CBA, Murmur3.hash32("Hello, world!", 0x9747b28c));
    assertEquals(
        0x2FA826CD, Murmur3.hash32("The quick brown fox jumps over the lazy dog", 0x9747b28c));
  }

  @Test
  void hashes_utf8_bytes_of_strings() {
    String s = "π-user";
    assertEquals(Murmur3.hash32(s.getBytes(StandardCharsets.UTF_8), 1), Murmur3.hash32(s, 1));
  }
}
