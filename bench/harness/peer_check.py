"""Do two servers serve the same weights? Their Embed answers on the same texts, compared;
and the token counts of texts as a server tokenizes them (for the ghz comparison).

The transformers peer loads the Hugging Face directory that securebert-server's model was
exported from; this check makes that a measured fact of each run rather than an
assumption: mean-pooled and CLS vectors of a few generated texts (8-256 tokens) from both,
and the largest absolute difference. Over PARITY_TOLERANCE the run stops: a throughput
ratio between servers of different models would mean nothing.
"""

from pathlib import Path
from typing import List

PARITY_TOLERANCE = 1e-4
RPC_TIMEOUT_S = 120.0


def max_difference(a: List[List[float]], b: List[List[float]]) -> float:
    """Largest |a - b| over equally shaped lists of vectors; inf when the shapes differ."""
    if len(a) != len(b) or any(len(x) != len(y) for x, y in zip(a, b)):
        return float("inf")
    return max((abs(p - q) for x, y in zip(a, b) for p, q in zip(x, y)), default=0.0)


def compare_embeddings(stubs_dir: Path, target_a: str, target_b: str, texts: List[str]) -> dict:
    """Embed (mean and CLS pooling) of `texts` on both targets; the largest difference."""
    import grpc  # pylint: disable=import-outside-toplevel
    import proto_stubs  # pylint: disable=import-outside-toplevel
    pb, pb_grpc = proto_stubs.generate(stubs_dir)
    answers = {}
    for target in (target_a, target_b):
        with grpc.insecure_channel(target) as channel:
            stub = pb_grpc.SecureBertStub(channel)
            for pooling in (pb.POOLING_MEAN, pb.POOLING_CLS):
                reply = stub.Embed(pb.EmbedRequest(inputs=texts, pooling=pooling),
                                   timeout=RPC_TIMEOUT_S)
                answers[(target, pooling)] = ([list(e.values) for e in reply.embeddings],
                                              [e.num_tokens for e in reply.embeddings])
    worst, same_tokens = 0.0, True
    for pooling in (pb.POOLING_MEAN, pb.POOLING_CLS):
        (va, ta), (vb, tb) = answers[(target_a, pooling)], answers[(target_b, pooling)]
        worst = max(worst, max_difference(va, vb))
        same_tokens = same_tokens and ta == tb
    return {"texts": len(texts), "max_abs_diff": worst, "same_token_counts": same_tokens,
            "tolerance": PARITY_TOLERANCE,
            "ok": same_tokens and worst <= PARITY_TOLERANCE}


def token_counts(stubs_dir: Path, target: str, texts: List[str], batch: int = 32) -> List[int]:
    """Tokens (<s> and </s> included) of each text by the server's Tokenize, in order."""
    import grpc  # pylint: disable=import-outside-toplevel
    import proto_stubs  # pylint: disable=import-outside-toplevel
    pb, pb_grpc = proto_stubs.generate(stubs_dir)
    counts: List[int] = []
    with grpc.insecure_channel(target) as channel:
        stub = pb_grpc.SecureBertStub(channel)
        for begin in range(0, len(texts), batch):
            reply = stub.Tokenize(pb.TokenizeRequest(inputs=texts[begin:begin + batch]),
                                  timeout=RPC_TIMEOUT_S)
            counts += [len(result.tokens) for result in reply.results]
    return counts
