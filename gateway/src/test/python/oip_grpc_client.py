"""A stock Python grpcio client of Distill's OIP gRPC service, with stubs generated from
gateway/src/main/proto/inference.proto by grpc_tools at run time (as a user would).

    python3 oip_grpc_client.py PROTO_DIR HOST:PORT MODEL

Scores 2 rows of a CTR model (dense FP32 [n, D], sparse INT64 [n, S]) with ModelInfer
(raw_input_contents), then streams 3 messages (good, malformed model name, good) through
ModelStreamInfer, and prints one JSON line with what it saw.
"""
import json
import struct
import sys
import tempfile

import grpc
from grpc_tools import protoc

proto_dir, target, model = sys.argv[1], sys.argv[2], sys.argv[3]
out = tempfile.mkdtemp()
if protoc.main(["protoc", "-I" + proto_dir, "--python_out=" + out, "--grpc_python_out=" + out,
                "inference.proto"]) != 0:
    sys.exit("protoc failed")
sys.path.insert(0, out)
import inference_pb2 as pb  # noqa: E402
import inference_pb2_grpc as pb_grpc  # noqa: E402

channel = grpc.insecure_channel(target)
stub = pb_grpc.GRPCInferenceServiceStub(channel)
live = stub.ServerLive(pb.ServerLiveRequest()).live
meta = stub.ModelMetadata(pb.ModelMetadataRequest(name=model))
dims = {t.name: t.shape[1] for t in meta.inputs}


def request(req_id, name=model):
    r = pb.ModelInferRequest(model_name=name, id=req_id)
    raw = []
    for t in meta.inputs:
        n = dims[t.name]
        r.inputs.add(name=t.name, datatype=t.datatype, shape=[2, n])
        if t.datatype == "FP32":
            raw.append(struct.pack("<%df" % (2 * n), *[0.5] * (2 * n)))
        else:
            raw.append(struct.pack("<%dq" % (2 * n), *[1] * (2 * n)))
    r.raw_input_contents.extend(raw)
    return r


resp = stub.ModelInfer(request("py-1"))
probs = list(struct.unpack("<2f", resp.raw_output_contents[0]))
stream = list(stub.ModelStreamInfer(iter([request("s1"), request("s2", "nope"), request("s3")])))
print(json.dumps({
    "live": live,
    "inputs": dims,
    "id": resp.id,
    "probs": probs,
    "stream_ids": [s.infer_response.id for s in stream],
    "stream_errors": [s.error_message for s in stream],
}))
