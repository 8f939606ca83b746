/**
 * The Open Inference Protocol v2 server codec: request decoding and validation against a model's
 * signature, response encoding, both as JSON and with Triton's binary tensor data extension ({@code
 * Inference-Header-Content-Length}, {@code binary_data_size}, {@code binary_data}, {@code
 * binary_data_output}).
 *
 * <pre>{@code
 * // server side
 * Integer h = InferRequestDecoder.parseHeaderLength(req.getHeader(InferRequestDecoder.HEADER_LENGTH));
 * InferRequest in = new InferRequestDecoder().decode(body, h, signature.inputs(), signature.outputs());
 * List<Tensor> outs = ...;                                   // Tensor: native-order ByteBuffer, row slices, concatRows
 * InferResponseEncoder.Encoded e = new InferResponseEncoder().encode(model, version, in.id(), outs,
 *         in.outputs(), in.binaryDataOutput(), Map.of("variant", model));
 * }</pre>
 *
 * <p>{@code BodyReader} reads the JSON header; a tensor's values come from its JSON {@code data}
 * ({@code JsonDataReader}) or from the binary section ({@code BinaryData}). The client side
 * (request encoder, response decoder) lives in test scope; the load generator has its own.
 *
 * <p>Tensor data never goes through boxed values or a JSON tree: Jackson's streaming parser and
 * generator read and write primitive values straight to and from buffers. Everything a client can
 * fix is a {@link ai.distill.gateway.protocol.BadInputException} (HTTP 400) naming the input, the
 * expected and the received value. All classes are stateless or immutable and thread-safe.
 */
package ai.distill.gateway.protocol;
