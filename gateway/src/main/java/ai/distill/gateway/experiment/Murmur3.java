package ai.distill.gateway.experiment;

import java.nio.charset.StandardCharsets;

/**
 * MurmurHash3 x86_32 (Austin Appleby's reference, public domain) over the UTF-8 bytes of a string.
 * Pure and thread-safe; no library on the gateway's classpath offers it publicly.
 */
final class Murmur3 {

  private static final int C1 = 0xcc9e2d51;
  private static final int C2 = 0x1b873593;

  private Murmur3() {}

  static int hash32(String key, int seed) {
    return hash32(key.getBytes(StandardCharsets.UTF_8), seed);
  }

  @SuppressWarnings("fallthrough")
  static int hash32(byte[] data, int seed) {
    int h = seed;
    int blocks = data.length >>> 2;
    for (int i = 0; i < blocks; i++) {
      int o = i << 2;
      int k =
          (data[o] & 0xff)
              | (data[o + 1] & 0xff) << 8
              | (data[o + 2] & 0xff) << 16
              | (data[o + 3] & 0xff) << 24;
      h ^= mixK(k);
      h = Integer.rotateLeft(h, 13) * 5 + 0xe6546b64;
    }
    int tail = blocks << 2;
    int k = 0;
    switch (data.length & 3) {
      case 3:
        k ^= (data[tail + 2] & 0xff) << 16;
      case 2:
        k ^= (data[tail + 1] & 0xff) << 8;
      case 1:
        k ^= data[tail] & 0xff;
        h ^= mixK(k);
      default:
        break;
    }
    h ^= data.length;
    return fmix(h);
  }

  /** 64 bits from two seeds: a compact, practically collision-free key for per-user counters. */
  static long hash64(String key) {
    byte[] bytes = key.getBytes(StandardCharsets.UTF_8);
    return ((long) hash32(bytes, 0x9747b28c) << 32) | (hash32(bytes, 1) & 0xffffffffL);
  }

  private static int mixK(int k) {
    k *= C1;
    k = Integer.rotateLeft(k, 15);
    return k * C2;
  }

  private static int fmix(int h) {
    h ^= h >>> 16;
    h *= 0x85ebca6b;
    h ^= h >>> 13;
    h *= 0xc2b2ae35;
    h ^= h >>> 16;
    return h;
  }
}
