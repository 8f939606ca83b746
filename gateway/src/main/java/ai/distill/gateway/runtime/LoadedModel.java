package ai.distill.gateway.runtime;

import ai.distill.gateway.batching.DynamicBatcher;
import ai.distill.gateway.tensor.InferRequest;
import ai.distill.gateway.tensor.Tensor;
import ai.distill.store.ModelVersion;
import ai.onnxruntime.OrtSession;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * One model version in memory: its ORT session, signature and batcher. Reference counted: the
 * registry holds one reference while the version serves, and every request holds one from {@link
 * #tryAcquire()} until its response is built. When the count reaches zero the session is closed (by
 * the {@code closer}, on a worker thread), so a session is never closed while a request uses it.
 * Independently of request references, the closer first drains the batcher and waits for every
 * running batch to return from ORT: a batch, not only a request, keeps the session open.
 * Thread-safe.
 */
public final class LoadedModel {

  private final ModelVersion stored;
  private final OrtSession session;
  private final ModelSignature signature;
  private final DynamicBatcher<InferRequest, List<Tensor>> batcher;
  private final AtomicInteger references = new AtomicInteger(1);
  private final Consumer<LoadedModel> closer;
  private final boolean pinned;
  private volatile boolean sessionClosed;

  LoadedModel(
      ModelVersion stored,
      OrtSession session,
      ModelSignature signature,
      DynamicBatcher<InferRequest, List<Tensor>> batcher,
      Consumer<LoadedModel> closer,
      boolean pinned) {
    this.stored = stored;
    this.session = session;
    this.signature = signature;
    this.batcher = batcher;
    this.closer = closer;
    this.pinned = pinned;
  }

  public String name() {
    return stored.name();
  }

  public long version() {
    return stored.version();
  }

  /** {@code name:version}. */
  public String id() {
    return stored.id();
  }

  /** The stored version (directory and manifest) this was loaded from. */
  public ModelVersion stored() {
    return stored;
  }

  public ModelSignature signature() {
    return signature;
  }

  /** True when loaded explicitly (admin load): a newer version does not retire it. */
  public boolean pinned() {
    return pinned;
  }

  DynamicBatcher<InferRequest, List<Tensor>> batcher() {
    return batcher;
  }

  OrtSession session() {
    return session;
  }

  /** True once the ORT session has been closed (after the last batch returned). */
  public boolean sessionClosed() {
    return sessionClosed;
  }

  void markSessionClosed() {
    sessionClosed = true;
  }

  /** Takes a reference for one request; false when the version is already retiring to zero. */
  public boolean tryAcquire() {
    while (true) {
      int n = references.get();
      if (n <= 0) {
        return false;
      }
      if (references.compareAndSet(n, n + 1)) {
        return true;
      }
    }
  }

  /** Returns a reference; the last one closes the session. */
  public void release() {
    int n = references.decrementAndGet();
    if (n == 0) {
      closer.accept(this);
    } else if (n < 0) {
      throw new IllegalStateException(id() + " released more often than acquired");
    }
  }

  /** References currently held (1 for the registry while serving, plus in-flight requests). */
  int references() {
    return references.get();
  }

  @Override
  public String toString() {
    return "LoadedModel[" + id() + "]";
  }
}
