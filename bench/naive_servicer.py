"""The naive peer's model wrapper and gRPC servicer (see naive_peer.py).

PeerModel runs one encoder forward per call on the request's inputs padded
together, as `model(**tokenizer(texts, padding=True))` would. NaiveServicer
maps requests onto it; a ValueError is the request's fault and becomes
INVALID_ARGUMENT. Both are called from the gRPC executor's threads at once:
PeerModel holds no mutable state besides the tokenizer's word cache.

Import only after the generated stubs are on sys.path (naive_peer.py does it).
"""

import json
from pathlib import Path
from typing import List, Tuple

import grpc
import torch

from naive_bpe import MASK_TEXT, ByteLevelBpe
from securebert.v1 import securebert_pb2 as pb
from securebert.v1 import securebert_pb2_grpc

# (id, vocabulary string, byte start, byte end) as naive_bpe returns them.
Token = Tuple[int, str, int, int]


class PeerModel:
    """Tokenizer plus TorchScript encoder and LM head of one model directory."""

    def __init__(self, model_dir: Path):
        with open(model_dir / "manifest.json", encoding="utf-8") as f:
            self.manifest = json.load(f)
        special = self.manifest["special_tokens"]
        self.bos_id = special["bos"]["id"]
        self.eos_id = special["eos"]["id"]
        self.pad_id = special["pad"]["id"]
        self.mask_id = special["mask"]["id"]
        self.max_input_tokens = self.manifest["max_input_tokens"]
        self.tokenizer = ByteLevelBpe(model_dir)
        self.encoder = torch.jit.load(str(model_dir / self.manifest["encoder"])).eval()
        self.lm_head = torch.jit.load(str(model_dir / self.manifest["lm_head"])).eval()

    def tokenize(self, text: str, truncation: int) -> Tuple[List[Token], bool]:
        """<s> tokens </s> of text, truncated as asked; ValueError when too long."""
        body = self.tokenizer.encode(text)
        room = self.max_input_tokens - 2
        truncated = len(body) > room
        if truncated:
            if truncation == pb.TRUNCATION_NONE:
                raise ValueError(f"input has {len(body) + 2} tokens, more than max_input_tokens "
                                 f"{self.max_input_tokens}")
            body = body[:room] if truncation == pb.TRUNCATION_RIGHT else body[-room:]
        return [(self.bos_id, "<s>", 0, 0)] + body + [(self.eos_id, "</s>", 0, 0)], truncated

    def forward(self, sequences: List[List[Token]]) -> torch.Tensor:
        """Hidden states [B, T, H] of the sequences padded to the longest."""
        longest = max(len(s) for s in sequences)
        ids = torch.full((len(sequences), longest), self.pad_id, dtype=torch.int64)
        mask = torch.zeros((len(sequences), longest), dtype=torch.int64)
        for row, sequence in enumerate(sequences):
            ids[row, :len(sequence)] = torch.tensor([t[0] for t in sequence])
            mask[row, :len(sequence)] = 1
        with torch.no_grad():
            return self.encoder(ids, mask)

    def top_k(self, hidden_rows: torch.Tensor, k: int):
        """Softmax scores and ids of the k best tokens for each row [N, H]."""
        with torch.no_grad():
            probabilities = torch.softmax(self.lm_head(hidden_rows), dim=-1)
            return torch.topk(probabilities, k, dim=-1)


def _check_inputs(inputs) -> None:
    if not inputs:
        raise ValueError("inputs: empty")


def _embedding(hidden: torch.Tensor, length: int, pooling: int, normalize: bool) -> pb.Embedding:
    """One input's Embedding from its row of hidden states [T, H]."""
    if pooling == pb.POOLING_NONE:
        vectors = hidden[:length]
    else:
        vectors = hidden[0] if pooling == pb.POOLING_CLS else hidden[:length].mean(dim=0)
        if normalize:
            vectors = torch.nn.functional.normalize(vectors, dim=0)
    return pb.Embedding(values=vectors.reshape(-1).tolist(), shape=list(vectors.shape),
                        num_tokens=length)


def _fill(text: str, occurrence: int, word: str) -> str:
    """text with its occurrence-th <mask> replaced by word."""
    parts = text.split(MASK_TEXT)
    return MASK_TEXT.join(parts[:occurrence + 1]) + word + MASK_TEXT.join(parts[occurrence + 1:])


class NaiveServicer(securebert_pb2_grpc.SecureBertServicer):
    """securebert.v1.SecureBert over a PeerModel, one forward per request."""

    def __init__(self, model: PeerModel):
        self.model = model

    def _tokenized(self, inputs, truncation, context):
        try:
            _check_inputs(inputs)
            return [self.model.tokenize(text, truncation) for text in inputs]
        except ValueError as error:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(error))
            raise  # abort raises; this keeps linters aware

    def Embed(self, request, context):
        tokenized = self._tokenized(request.inputs, request.truncation, context)
        hidden = self.model.forward([tokens for tokens, _ in tokenized])
        response = pb.EmbedResponse()
        for row, (tokens, truncated) in enumerate(tokenized):
            embedding = _embedding(hidden[row], len(tokens), request.pooling, request.normalize)
            embedding.truncated = truncated
            response.embeddings.append(embedding)
        return response

    def EmbedStream(self, request_iterator, context):
        for request in request_iterator:
            yield self.Embed(request, context)

    def PredictMask(self, request, context):
        top_k = request.top_k or 10
        if not 1 <= top_k <= 1000:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "top_k: must be in 1..1000")
        tokenized = self._tokenized(request.inputs, request.truncation, context)
        positions = [[i for i, t in enumerate(tokens) if t[0] == self.model.mask_id]
                     for tokens, _ in tokenized]
        if not all(positions):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "inputs: every input needs a <mask>")
        hidden = self.model.forward([tokens for tokens, _ in tokenized])
        response = pb.PredictMaskResponse()
        for row, (text, (_, truncated)) in enumerate(zip(request.inputs, tokenized)):
            scores, ids = self.model.top_k(hidden[row, positions[row]], top_k)
            result = response.results.add(truncated=truncated)
            for n, position in enumerate(positions[row]):
                mask = result.masks.add(position=position)
                for score, token_id in zip(scores[n].tolist(), ids[n].tolist()):
                    word = self.model.tokenizer.decode_token(token_id)
                    mask.predictions.add(token_id=token_id, token=word, score=score,
                                         sequence=_fill(text, n, word))
        return response

    def Tokenize(self, request, context):
        tokenized = self._tokenized(request.inputs, request.truncation, context)
        response = pb.TokenizeResponse()
        for tokens, truncated in tokenized:
            result = response.results.add(truncated=truncated)
            for token_id, text, start, end in tokens:
                result.tokens.add(id=token_id, text=text, start=start, end=end)
        return response

    def GetModelInfo(self, request, context):
        architecture = self.model.manifest["architecture"]
        return pb.ModelInfo(model_id=self.model.manifest["model_id"],
                            hidden_size=architecture["hidden_size"],
                            num_layers=architecture["num_layers"],
                            vocab_size=architecture["vocab_size"],
                            max_input_tokens=self.model.max_input_tokens, device="cpu",
                            dtype=self.model.manifest["dtype"], max_client_batch_size=32,
                            mask_token=MASK_TEXT)
