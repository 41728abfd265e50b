#!/usr/bin/env python3
"""Embeds two texts, fills a <mask>, and prints the results.

Usage: example.py [--target HOST:PORT] [--timeout_s SECONDS]
                  [--insecure=false --cacert CA.pem --cert C.pem --key K.pem --cname NAME]
                  [--token TOKEN]

Needs the securebert-client package installed (client/python/README.md).
Plaintext by default, as the server and securebert-client; with
--insecure=false the TLS files and the token left unset come from
SECUREBERT_CA_FILE, SECUREBERT_CERT_FILE, SECUREBERT_KEY_FILE and
SECUREBERT_TOKEN (better than --token, which `ps` shows). Exit 0 on
success, 1 when a call fails, 2 on bad flags.
"""

import argparse
import math
import os
import sys

import grpc

from securebert_client import (DEFAULT_TARGET, ENV_CA_FILE, ENV_CERT_FILE, ENV_KEY_FILE,
                               ENV_TOKEN, SecureBertClient, vectors)

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


def parse_bool(text):
    if text.lower() in ("true", "1", "yes"):
        return True
    if text.lower() in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"want true or false, not {text!r}")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default=DEFAULT_TARGET,
                        help=f"host:port, dns:///name:port, ipv4:a:p,b:p or a:p,b:p "
                             f"(default {DEFAULT_TARGET})")
    parser.add_argument("--timeout_s", type=float, default=30.0,
                        help="deadline of each call in seconds (default 30)")
    parser.add_argument("--insecure", type=parse_bool, nargs="?", const=True, default=True,
                        metavar="BOOL", help="plaintext (default true); --insecure=false for TLS")
    parser.add_argument("--cacert", default="", help=f"TLS: PEM roots (${ENV_CA_FILE})")
    parser.add_argument("--cert", default="", help=f"TLS: PEM client certificate "
                                                   f"(${ENV_CERT_FILE})")
    parser.add_argument("--key", default="", help=f"TLS: PEM key of --cert (${ENV_KEY_FILE})")
    parser.add_argument("--cname", default="", help="TLS: server name to verify")
    parser.add_argument("--token", default="", help=f"TLS: bearer token (${ENV_TOKEN})")
    return parser.parse_args(argv)


def main(argv=None, out=sys.stdout, environ=None):
    args = parse_args(argv)
    environ = os.environ if environ is None else environ
    unused = [name for name in (ENV_CA_FILE, ENV_CERT_FILE, ENV_KEY_FILE, ENV_TOKEN)
              if args.insecure and environ.get(name)]
    if unused:
        print(f"note: {', '.join(unused)} set but not used: the connection is plaintext; "
              "--insecure=false for TLS", file=sys.stderr)
    try:
        client = SecureBertClient(args.target, timeout_s=args.timeout_s, insecure=args.insecure,
                                  ca_file=args.cacert, cert_file=args.cert, key_file=args.key,
                                  server_name=args.cname, token=args.token, environ=environ)
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        with client:
            run(client, out)
    except grpc.RpcError as error:
        print(f"error: {error.code().name}: {error.details()}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
