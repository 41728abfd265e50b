"""The transformers peer's model wrapper and gRPC servicer (see transformers_peer.py).

HfModel is the model card's code made into a service: RobertaTokenizerFast and
RobertaForMaskedLM from one Hugging Face directory, its `.roberta` (a RobertaModel) for
Embed, and the MLM head for PredictMask, all under torch.inference_mode(). One forward per
request, the request's inputs padded together, as `model(**tokenizer(texts, padding=True,
return_tensors="pt"))` does. PredictMask runs the head on the <mask> rows only (what a
careful user does instead of `.logits` over every token: the head is a 768 x 50,265 matmul
per row).

TransformersServicer maps the RPCs onto it; a ValueError is the request's fault and becomes
INVALID_ARGUMENT. Both are called from the gRPC executor's threads at once: HfModel holds
no mutable state after construction (the two tokenizers are only read; the right- and
left-truncating ones are separate objects so that no call changes a shared setting).

Import only after the generated stubs are on sys.path (transformers_peer.py does it).
"""

from pathlib import Path
from typing import List

import grpc
import torch
import transformers

from securebert.v1 import securebert_pb2 as pb
from securebert.v1 import securebert_pb2_grpc

MAX_CLIENT_BATCH_SIZE = 32
MAX_TOP_K = 1000


class HfModel:
    """Tokenizers and RobertaForMaskedLM of one Hugging Face directory, eval mode, fp32."""

    def __init__(self, hf_dir: Path):
        self.tokenizer = transformers.RobertaTokenizerFast.from_pretrained(str(hf_dir))
        self.left_tokenizer = transformers.RobertaTokenizerFast.from_pretrained(
            str(hf_dir), truncation_side="left")
        self.mlm = transformers.RobertaForMaskedLM.from_pretrained(str(hf_dir)).eval()
        self.encoder = self.mlm.roberta  # a RobertaModel (no pooler)
        config = self.mlm.config
        self.config = config
        # 512 for SecureBERT: positions 0 and 1 are the padding offset of RoBERTa.
        self.max_input_tokens = config.max_position_embeddings - config.pad_token_id - 1
        self.mask_id = self.tokenizer.mask_token_id

    def encode(self, texts: List[str], truncation: int) -> dict:
        """tokenizer(texts, padding=True) as tensors; ValueError when one is too long."""
        if not texts:
            raise ValueError("inputs: empty")
        if len(texts) > MAX_CLIENT_BATCH_SIZE:
            raise ValueError(f"inputs: {len(texts)} inputs, more than max_client_batch_size "
                             f"{MAX_CLIENT_BATCH_SIZE}")
        tokenizer = self.left_tokenizer if truncation == pb.TRUNCATION_LEFT else self.tokenizer
        full = tokenizer(texts, padding=True, return_tensors="pt")
        lengths = full["attention_mask"].sum(dim=1)
        too_long = lengths > self.max_input_tokens
        if not bool(too_long.any()):
            full["truncated"] = too_long
            return full
        if truncation == pb.TRUNCATION_NONE:
            longest = int(lengths.max())
            raise ValueError(f"input has {longest} tokens, more than max_input_tokens "
                             f"{self.max_input_tokens}")
        cut = tokenizer(texts, padding=True, truncation=True, max_length=self.max_input_tokens,
                        return_tensors="pt")
        cut["truncated"] = too_long
        return cut

    def hidden(self, encoded: dict) -> torch.Tensor:
        """last_hidden_state [B, T, H]."""
        with torch.inference_mode():
            return self.encoder(input_ids=encoded["input_ids"],
                                attention_mask=encoded["attention_mask"]).last_hidden_state

    def top_k(self, hidden_rows: torch.Tensor, k: int):
        """Softmax scores and ids of the k best tokens for each row [N, H]."""
        with torch.inference_mode():
            probabilities = torch.softmax(self.mlm.lm_head(hidden_rows), dim=-1)
            return torch.topk(probabilities, k, dim=-1)


def pooled(hidden: torch.Tensor, mask: torch.Tensor, pooling: int, normalize: bool):
    """[B, H] pooled vectors: the mean over real tokens (<s> and </s> included) or <s>'s."""
    with torch.inference_mode():
        if pooling == pb.POOLING_CLS:
            vectors = hidden[:, 0]
        else:
            weights = mask.unsqueeze(-1).to(hidden.dtype)
            vectors = (hidden * weights).sum(dim=1) / weights.sum(dim=1)
        if normalize:
            vectors = torch.nn.functional.normalize(vectors, dim=-1)
        return vectors


def _byte_offsets(text: str, start: int, end: int):
    """Character offsets [start, end) of text as UTF-8 byte offsets."""
    return len(text[:start].encode("utf-8")), len(text[:end].encode("utf-8"))


class TransformersServicer(securebert_pb2_grpc.SecureBertServicer):
    """securebert.v1.SecureBert over an HfModel, one forward per request."""

    def __init__(self, model: HfModel):
        self.model = model

    def _encode(self, inputs, truncation, context) -> dict:
        try:
            return self.model.encode(list(inputs), truncation)
        except ValueError as error:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(error))
            raise  # abort raises; this keeps linters aware

    def Embed(self, request, context):
        encoded = self._encode(request.inputs, request.truncation, context)
        hidden = self.model.hidden(encoded)
        lengths = encoded["attention_mask"].sum(dim=1).tolist()
        response = pb.EmbedResponse()
        if request.pooling == pb.POOLING_NONE:
            for row, length in enumerate(lengths):
                vectors = hidden[row, :length]
                response.embeddings.add(values=vectors.reshape(-1).tolist(),
                                        shape=list(vectors.shape), num_tokens=length,
                                        truncated=bool(encoded["truncated"][row]))
            return response
        vectors = pooled(hidden, encoded["attention_mask"], request.pooling, request.normalize)
        for row, length in enumerate(lengths):
            response.embeddings.add(values=vectors[row].tolist(), shape=[vectors.shape[1]],
                                    num_tokens=length, truncated=bool(encoded["truncated"][row]))
        return response

    def EmbedStream(self, request_iterator, context):
        for request in request_iterator:
            yield self.Embed(request, context)

    def PredictMask(self, request, context):
        top_k = request.top_k or 10
        if not 1 <= top_k <= MAX_TOP_K:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"top_k: must be in 1..{MAX_TOP_K}")
        encoded = self._encode(request.inputs, request.truncation, context)
        ids = encoded["input_ids"]
        rows, cols = torch.nonzero(ids == self.model.mask_id, as_tuple=True)
        if set(rows.tolist()) != set(range(ids.shape[0])):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "inputs: every input needs a <mask>")
        hidden = self.model.hidden(encoded)
        scores, candidates = self.model.top_k(hidden[rows, cols], top_k)
        response = pb.PredictMaskResponse()
        results = [response.results.add(truncated=bool(t)) for t in encoded["truncated"]]
        lengths = encoded["attention_mask"].sum(dim=1).tolist()
        masks_per_row = torch.bincount(rows, minlength=ids.shape[0]).tolist()
        for n, (row, col) in enumerate(zip(rows.tolist(), cols.tolist())):
            mask = results[row].masks.add(position=col)
            for score, token_id in zip(scores[n].tolist(), candidates[n].tolist()):
                word = self.model.tokenizer.decode([token_id]).strip()
                sequence = ""
                if not request.omit_sequence:
                    filled = ids[row, :lengths[row]].clone()
                    filled[col] = token_id
                    # The fill-mask pipeline: special tokens skipped with one mask only.
                    sequence = self.model.tokenizer.decode(
                        filled.tolist(), skip_special_tokens=masks_per_row[row] == 1)
                mask.predictions.add(token_id=token_id, token=word, score=score,
                                     sequence=sequence)
        return response

    def Tokenize(self, request, context):
        encoded = self._encode(request.inputs, request.truncation, context)
        response = pb.TokenizeResponse()
        tokenizer = (self.model.left_tokenizer if request.truncation == pb.TRUNCATION_LEFT
                     else self.model.tokenizer)
        for row, text in enumerate(request.inputs):
            length = int(encoded["attention_mask"][row].sum())
            result = response.results.add(truncated=bool(encoded["truncated"][row]))
            offsets = tokenizer(text, return_offsets_mapping=True, truncation=True,
                                max_length=self.model.max_input_tokens)["offset_mapping"]
            row_ids = encoded["input_ids"][row, :length].tolist()
            for token_id, token, (start, end) in zip(
                    row_ids, tokenizer.convert_ids_to_tokens(row_ids), offsets):
                byte_start, byte_end = _byte_offsets(text, start, end)
                result.tokens.add(id=token_id, text=token, start=byte_start, end=byte_end)
        return response

    def GetModelInfo(self, request, context):
        config = self.model.config
        return pb.ModelInfo(model_id="transformers:" + str(config.name_or_path),
                            hidden_size=config.hidden_size, num_layers=config.num_hidden_layers,
                            vocab_size=config.vocab_size,
                            max_input_tokens=self.model.max_input_tokens, device="cpu",
                            dtype="float32", max_client_batch_size=MAX_CLIENT_BATCH_SIZE,
                            mask_token=self.model.tokenizer.mask_token)
