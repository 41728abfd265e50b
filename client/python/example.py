#!/usr/bin/env python3
"""Embeds two texts, fills a <mask>, and prints the results.

Usage: example.py [--target HOST:PORT] [--timeout_s SECONDS]

Needs the generated stubs on PYTHONPATH (${build}/python) and this folder
(client/python) for securebert_client.
"""

import argparse
import math
import sys

import grpc

from securebert_client import DEFAULT_TARGET, SecureBertClient, vectors

TEXTS = [
    "The attacker exploited CVE-2021-44228 in Apache Log4j to gain remote code execution.",
    "A Log4Shell exploit let the intruder run arbitrary code on the web server.",
]
MASKED = "Adversaries may use <mask> to gain initial access to a victim network."


def cosine(a, b):
    dot = sum(x * y for x, y in zip(a, b))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


def run(client, out):
    info = client.info()
    print(f"model: {info.model_id} ({info.num_layers} layers, hidden {info.hidden_size}, "
          f"{info.device}, {info.dtype})", file=out)

    response = client.embed(TEXTS, pooling="mean", normalize=True)
    first, second = vectors(response)
    for text, embedding in zip(TEXTS, response.embeddings):
        print(f"embed: {embedding.num_tokens} tokens, {len(embedding.values)} dims: {text}",
              file=out)
    print(f"cosine similarity: {cosine(first, second):.4f}", file=out)

    predicted = client.predict_mask([MASKED], top_k=5)
    print(f"predict-mask: {MASKED}", file=out)
    for mask in predicted.results[0].masks:
        for rank, candidate in enumerate(mask.predictions, start=1):
            print(f"  {rank}. token={candidate.token!r}  score={candidate.score:.4f}  "
                  f"sequence={candidate.sequence!r}", file=out)


def main(argv=None, out=sys.stdout):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default=DEFAULT_TARGET,
                        help=f"server address (default {DEFAULT_TARGET})")
    parser.add_argument("--timeout_s", type=float, default=30.0,
                        help="deadline of each call in seconds (default 30)")
    args = parser.parse_args(argv)
    try:
        with SecureBertClient(args.target, timeout_s=args.timeout_s) as client:
            run(client, out)
    except grpc.RpcError as error:
        print(f"error: {error.code().name}: {error.details()}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
