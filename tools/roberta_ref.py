#!/usr/bin/env python3
"""Reference RoBERTa masked language model in plain PyTorch.

This is the model the exporter scripts to TorchScript and the model the golden
outputs come from. It does not import `transformers`; instead its module tree
mirrors Hugging Face's `RobertaForMaskedLM` so that `state_dict()` names are
identical (`roberta.embeddings.word_embeddings.weight`, ...,
`lm_head.decoder.weight`, `lm_head.bias`) and a Hugging Face checkpoint loads
without renaming.

It is inference-only: there is no dropout, no token-type input (RoBERTa uses
one token type) and no pooler. Every `forward` is TorchScript-compatible, so
`torch.jit.script` works on `RobertaModel` (the encoder) and `RobertaLMHead`
and the scripted modules accept any batch size and sequence length.
"""

import dataclasses
import json
import math
from pathlib import Path
from typing import Any, Dict

import torch
from torch import nn
from torch.nn import functional as F


@dataclasses.dataclass(frozen=True)
class RobertaConfig:
    """The architecture numbers of a RoBERTa model, as in Hugging Face's config.json."""

    vocab_size: int = 50265  # rows of the word embedding and LM-head decoder
    hidden_size: int = 768  # width of every hidden state
    num_hidden_layers: int = 12  # transformer layers in the encoder
    num_attention_heads: int = 12  # heads per self-attention; divides hidden_size
    intermediate_size: int = 3072  # width of the feed-forward block
    max_position_embeddings: int = 514  # position rows; padding_idx + 1 are unusable
    type_vocab_size: int = 1  # token-type rows; RoBERTa uses only type 0
    layer_norm_eps: float = 1e-5  # epsilon of every LayerNorm
    pad_token_id: int = 1  # <pad>; also the position-embedding padding index
    bos_token_id: int = 0  # <s>
    eos_token_id: int = 2  # </s>
    tie_word_embeddings: bool = True  # decoder weight is the word-embedding matrix

    def __post_init__(self) -> None:
        if self.hidden_size % self.num_attention_heads != 0:
            raise ValueError(
                f"hidden_size {self.hidden_size} is not a multiple of "
                f"num_attention_heads {self.num_attention_heads}")
        if self.max_position_embeddings <= self.pad_token_id + 1:
            raise ValueError(
                f"max_position_embeddings {self.max_position_embeddings} leaves no usable "
                f"position after the padding offset {self.pad_token_id + 1}")
        for name in ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
                     "intermediate_size", "type_vocab_size"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")

    @property
    def max_input_tokens(self) -> int:
        """Longest sequence (including <s> and </s>) the position embeddings allow."""
        return self.max_position_embeddings - self.pad_token_id - 1

    @classmethod
    def from_dict(cls, raw: Dict[str, Any]) -> "RobertaConfig":
        """Builds a config from a Hugging Face config dict; refuses what this model cannot run."""
        model_type = raw.get("model_type", "roberta")
        if model_type != "roberta":
            raise ValueError(f"model_type is {model_type!r}; only 'roberta' is supported")
        act = raw.get("hidden_act", "gelu")
        if act != "gelu":
            raise ValueError(f"hidden_act is {act!r}; only 'gelu' (exact, erf) is supported")
        pos_type = raw.get("position_embedding_type", "absolute")
        if pos_type != "absolute":
            raise ValueError(
                f"position_embedding_type is {pos_type!r}; only 'absolute' is supported")
        if raw.get("is_decoder", False) or raw.get("add_cross_attention", False):
            raise ValueError("decoder / cross-attention RoBERTa configs are not supported")
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in raw.items() if k in known and v is not None}
        return cls(**values)

    @classmethod
    def from_json_file(cls, path: Path) -> "RobertaConfig":
        """Reads a Hugging Face `config.json`."""
        with open(path, encoding="utf-8") as f:
            try:
                raw = json.load(f)
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}: not valid JSON: {e}") from e
        if not isinstance(raw, dict):
            raise ValueError(f"{path}: expected a JSON object")
        try:
            return cls.from_dict(raw)
        except (TypeError, ValueError) as e:
            raise ValueError(f"{path}: {e}") from e

    def to_hf_dict(self) -> Dict[str, Any]:
        """The config as a Hugging Face `config.json` dict (what `from_dict` reads back)."""
        out: Dict[str, Any] = dataclasses.asdict(self)
        out.update({"model_type": "roberta", "architectures": ["RobertaForMaskedLM"],
                    "hidden_act": "gelu", "position_embedding_type": "absolute"})
        return out


def lowest_value(dtype: torch.dtype) -> float:
    """finfo(dtype).min for the floating dtypes (torch.finfo is not scriptable)."""
    if dtype == torch.float16:
        return -65504.0
    if dtype == torch.bfloat16:
        return -3.3895313892515355e38
    if dtype == torch.float64:
        return -1.7976931348623157e308
    return -3.4028234663852886e38


def position_ids_from_input_ids(input_ids: torch.Tensor, padding_idx: int) -> torch.Tensor:
    """RoBERTa position ids: padding_idx + 1, + 2, ... for real tokens; padding_idx for <pad>.

    Counting is over non-pad tokens, so right padding never changes a real token's position.
    """
    not_pad = input_ids.ne(padding_idx).to(torch.int64)
    return torch.cumsum(not_pad, dim=1) * not_pad + padding_idx


class RobertaEmbeddings(nn.Module):
    """Word + token-type + position embeddings followed by LayerNorm."""

    def __init__(self, config: RobertaConfig):
        super().__init__()
        h = config.hidden_size
        self.word_embeddings = nn.Embedding(config.vocab_size, h, padding_idx=config.pad_token_id)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, h,
                                                padding_idx=config.pad_token_id)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, h)
        self.LayerNorm = nn.LayerNorm(h, eps=config.layer_norm_eps)  # pylint: disable=invalid-name
        self.padding_idx = config.pad_token_id

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        position_ids = position_ids_from_input_ids(input_ids, self.padding_idx)
        token_type_ids = torch.zeros_like(input_ids)
        # Same summation order as Hugging Face: (word + token type) + position.
        x = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)
        x = x + self.position_embeddings(position_ids)
        return self.LayerNorm(x)


class RobertaSelfAttention(nn.Module):
    """Multi-head scaled dot-product self-attention with an additive mask."""

    def __init__(self, config: RobertaConfig):
        super().__init__()
        h = config.hidden_size
        self.num_heads = config.num_attention_heads
        self.head_size = h // config.num_attention_heads
        self.scale_divisor = math.sqrt(self.head_size)
        self.query = nn.Linear(h, h)
        self.key = nn.Linear(h, h)
        self.value = nn.Linear(h, h)

    def _split_heads(self, x: torch.Tensor) -> torch.Tensor:
        return x.view(x.size(0), x.size(1), self.num_heads, self.head_size).transpose(1, 2)

    def forward(self, hidden: torch.Tensor, additive_mask: torch.Tensor) -> torch.Tensor:
        q = self._split_heads(self.query(hidden))
        k = self._split_heads(self.key(hidden))
        v = self._split_heads(self.value(hidden))
        scores = torch.matmul(q, k.transpose(-1, -2)) / self.scale_divisor
        probs = torch.softmax(scores + additive_mask, dim=-1)
        context = torch.matmul(probs, v).transpose(1, 2).contiguous()
        return context.view(hidden.size(0), hidden.size(1), hidden.size(2))


class RobertaSelfOutput(nn.Module):
    """Attention output projection, residual, LayerNorm."""

    def __init__(self, config: RobertaConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(  # pylint: disable=invalid-name
            config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, attended: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dense(attended) + residual)


class RobertaAttention(nn.Module):
    """Self-attention block (`attention.self` and `attention.output` in the state dict)."""

    def __init__(self, config: RobertaConfig):
        super().__init__()
        # `self.self` is the Hugging Face name (state-dict key `attention.self.*`).
        self.self = RobertaSelfAttention(config)
        self.output = RobertaSelfOutput(config)

    def forward(self, hidden: torch.Tensor, additive_mask: torch.Tensor) -> torch.Tensor:
        return self.output(self.self(hidden, additive_mask), hidden)


class RobertaIntermediate(nn.Module):
    """First feed-forward projection with exact (erf) GELU."""

    def __init__(self, config: RobertaConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.intermediate_size)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.dense(hidden))


class RobertaOutput(nn.Module):
    """Second feed-forward projection, residual, LayerNorm."""

    def __init__(self, config: RobertaConfig):
        super().__init__()
        self.dense = nn.Linear(config.intermediate_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(  # pylint: disable=invalid-name
            config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, intermediate: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dense(intermediate) + residual)


class RobertaLayer(nn.Module):
    """One post-LayerNorm transformer layer."""

    def __init__(self, config: RobertaConfig):
        super().__init__()
        self.attention = RobertaAttention(config)
        self.intermediate = RobertaIntermediate(config)
        self.output = RobertaOutput(config)

    def forward(self, hidden: torch.Tensor, additive_mask: torch.Tensor) -> torch.Tensor:
        attended = self.attention(hidden, additive_mask)
        return self.output(self.intermediate(attended), attended)


class RobertaEncoder(nn.Module):
    """The stack of transformer layers (`encoder.layer.N` in the state dict)."""

    def __init__(self, config: RobertaConfig):
        super().__init__()
        self.layer = nn.ModuleList([RobertaLayer(config) for _ in range(config.num_hidden_layers)])

    def forward(self, hidden: torch.Tensor, additive_mask: torch.Tensor) -> torch.Tensor:
        for layer in self.layer:
            hidden = layer(hidden, additive_mask)
        return hidden


class RobertaModel(nn.Module):
    """Embeddings + encoder: (input_ids[B,T] int64, attention_mask[B,T] int64) -> [B,T,H].

    This is the module exported as `encoder.pt`. The integer attributes let a
    loader check the architecture without running the module.
    """

    def __init__(self, config: RobertaConfig):
        super().__init__()
        self.embeddings = RobertaEmbeddings(config)
        self.encoder = RobertaEncoder(config)
        self.hidden_size = config.hidden_size
        self.num_layers = config.num_hidden_layers
        self.vocab_size = config.vocab_size
        self.max_position_embeddings = config.max_position_embeddings
        self.pad_token_id = config.pad_token_id

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.embeddings(input_ids)
        keep = attention_mask[:, None, None, :].to(hidden.dtype)
        additive_mask = (1.0 - keep) * lowest_value(hidden.dtype)
        return self.encoder(hidden, additive_mask)


class RobertaLMHead(nn.Module):
    """Masked-LM head: dense, GELU, LayerNorm, decoder to vocabulary logits.

    Exported as `lm_head.pt`: hidden[N,H] float -> logits[N,V] (any leading shape works).
    `decoder.bias` is the same parameter as `bias`, as in Hugging Face.
    """

    def __init__(self, config: RobertaConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.layer_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.decoder = nn.Linear(config.hidden_size, config.vocab_size)
        self.bias = nn.Parameter(torch.zeros(config.vocab_size))
        self.decoder.bias = self.bias
        self.hidden_size = config.hidden_size
        self.vocab_size = config.vocab_size

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        x = self.layer_norm(F.gelu(self.dense(hidden)))
        return self.decoder(x)


class RobertaForMaskedLM(nn.Module):
    """The full masked LM; parameter names equal Hugging Face's `RobertaForMaskedLM`.

    The exporter handles it and roberta_heads.py's task-head models alike through
    `architecture`, `config`, `roberta`, `lm_head` (None there) and `head` (None here).
    """

    architecture = "RobertaForMaskedLM"  # config.json "architectures" entry
    head = None  # no task head (roberta_heads.TaskHeadConfig)

    def __init__(self, config: RobertaConfig):
        super().__init__()
        self.config = config
        self.roberta = RobertaModel(config)
        self.lm_head = RobertaLMHead(config)
        if config.tie_word_embeddings:
            self.lm_head.decoder.weight = self.roberta.embeddings.word_embeddings.weight

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Vocabulary logits [B,T,V] at every position."""
        return self.lm_head(self.roberta(input_ids, attention_mask))

    @torch.no_grad()
    def init_random_weights(self, seed: int, std: float = 0.02) -> None:
        """Hugging Face's initialisation (see `init_weights`), deterministic for a seed."""
        init_weights(self, torch.Generator().manual_seed(seed), std)


@torch.no_grad()
def init_weights(module: nn.Module, generator: torch.Generator, std: float) -> None:
    """Hugging Face's initialisation of `module`, drawing from `generator`.

    Linear and embedding weights ~ N(0, std), the padding rows of embeddings zero,
    biases zero, LayerNorm weight 1 and bias 0. Tied parameters are initialised once.
    """
    seen = set()
    for sub in module.modules():
        for name, param in sub.named_parameters(recurse=False):
            if id(param) in seen:
                continue
            seen.add(id(param))
            if isinstance(sub, nn.LayerNorm):
                param.fill_(1.0 if name == "weight" else 0.0)
            elif name == "weight":
                param.copy_(torch.randn(param.shape, generator=generator) * std)
            else:
                param.zero_()
        if isinstance(sub, nn.Embedding) and sub.padding_idx is not None:
            sub.weight[sub.padding_idx].zero_()
