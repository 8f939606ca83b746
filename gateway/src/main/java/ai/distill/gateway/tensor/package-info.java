/**
 * Tensors as the gateway moves them, below both the protocol codec and the runtime: {@link
 * ai.distill.gateway.tensor.Tensor} (a named, typed, shaped native-order buffer with row slicing
 * and {@code concatRows}), {@link ai.distill.gateway.tensor.InferRequest} (decoded inputs plus the
 * requested outputs), {@link ai.distill.gateway.tensor.HalfFloat} and {@link
 * ai.distill.gateway.tensor.OrtTypes}, the mapping between {@link ai.distill.store.tensor.Datatype}
 * / {@link ai.distill.store.tensor.TensorSpec} and ONNX Runtime's Java types. No transport and no
 * session lives here. All classes are immutable or stateless.
 */
package ai.distill.gateway.tensor;
