package ai.distill.gateway.grpc;

import ai.distill.gateway.InferResult;
import ai.distill.gateway.grpc.proto.InferParameter;
import ai.distill.gateway.grpc.proto.ModelInferResponse;
import ai.distill.gateway.grpc.proto.ModelInferResponse.InferOutputTensor;
import ai.distill.gateway.tensor.Tensor;
import com.google.protobuf.ByteString;

/**
 * Encodes an {@link InferResult} as an OIP {@code ModelInferResponse}, Triton's way: every output's
 * values in {@code raw_output_contents} (little-endian, in output order), {@code id} the response
 * id (the request's, or the generated one that click feedback takes), {@code
 * parameters.model_version} and, for an experiment, {@code parameters.variant}. Stateless and
 * thread-safe.
 */
final class ProtoResponseEncoder {

  ModelInferResponse encode(InferResult result) {
    ModelInferResponse.Builder b =
        ModelInferResponse.newBuilder()
            .setModelName(result.model())
            .setModelVersion(Long.toString(result.version()))
            .setId(result.id())
            .putParameters("model_version", string(Long.toString(result.version())));
    if (result.variant() != null) {
      b.putParameters("variant", string(result.variant()));
    }
    for (Tensor t : result.outputs()) {
      InferOutputTensor.Builder o =
          InferOutputTensor.newBuilder().setName(t.name()).setDatatype(t.datatype().name());
      for (long d : t.shape()) {
        o.addShape(d);
      }
      b.addOutputs(o);
      // native order is little-endian on supported hosts; copied: batch buffers may be reused
      b.addRawOutputContents(ByteString.copyFrom(t.data().duplicate()));
    }
    return b.build();
  }

  static InferParameter string(String value) {
    return InferParameter.newBuilder().setStringParam(value).build();
  }
}
