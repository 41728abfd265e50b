#!/usr/bin/env python3
"""Reference task heads on the reference encoder: sequence and token classification.

The counterparts of Hugging Face's `RobertaForSequenceClassification` and
`RobertaForTokenClassification`, inference-only (no dropout), with the same
state-dict names: the encoder under `roberta.` (no pooler) and

  sequence: `classifier.dense.{weight,bias}`, `classifier.out_proj.{weight,bias}`
  token:    `classifier.{weight,bias}`

so a fine-tuned checkpoint loads without renaming (hf_checkpoint.py). The
exporter scripts `classifier` alone as `task_head.pt`, with the forward the
server calls:

  sequence: forward(cls[n, H] float) -> logits[n, num_labels]   (the <s> vector of each row)
  token:    forward(hidden[n, T, H] float) -> logits[n, T, num_labels]

Both carry int attributes `hidden_size` and `num_labels`. What the labels are
called and how their scores are read (softmax or per-label sigmoid) is the
model's TaskHeadConfig, recorded in the manifest.
"""

import dataclasses
import math
from typing import Optional, Tuple, Union

import torch
from torch import nn
from torch.nn import functional as F

import roberta_ref

SEQUENCE = "sequence_classification"
TOKEN = "token_classification"
# The config.json "architectures" entry of each head kind.
ARCHITECTURES = {SEQUENCE: "RobertaForSequenceClassification",
                 TOKEN: "RobertaForTokenClassification"}
SINGLE_LABEL = "single_label_classification"  # softmax over the labels
MULTI_LABEL = "multi_label_classification"  # a sigmoid per label
PROBLEM_TYPES = (SINGLE_LABEL, MULTI_LABEL)
# Target std of a random head's logits: wide enough that the top two labels
# are rarely within float error of each other, so argmax comparisons mean something.
RANDOM_LOGIT_STD = 4.0
# Root mean square of tanh(x) for x ~ N(0, 1): the sequence head's out_proj input.
_TANH_RMS = 0.63


@dataclasses.dataclass(frozen=True)
class TaskHeadConfig:
    """What a task head predicts: its kind, its labels in id order, how to read its scores."""

    kind: str  # SEQUENCE or TOKEN
    labels: Tuple[str, ...]  # label names; position i is label id i (config.json id2label)
    problem_type: str = SINGLE_LABEL  # SINGLE_LABEL or MULTI_LABEL (sequence heads only)

    def __post_init__(self) -> None:
        if self.kind not in ARCHITECTURES:
            raise ValueError(f"head kind {self.kind!r} is not {SEQUENCE} or {TOKEN}")
        if not self.labels:
            raise ValueError("a task head needs at least one label")
        if not all(isinstance(label, str) for label in self.labels):
            raise ValueError(f"labels must be strings, got {list(self.labels)[:8]}")
        if self.problem_type not in PROBLEM_TYPES:
            raise ValueError(f"problem_type {self.problem_type!r} is not supported; "
                             f"expected one of {', '.join(PROBLEM_TYPES)}")
        if self.kind == TOKEN and self.problem_type == MULTI_LABEL:
            # transformers' token classification ignores it: always one label per token.
            raise ValueError(f"problem_type {MULTI_LABEL} applies to sequence "
                             "classification only")

    @property
    def num_labels(self) -> int:
        return len(self.labels)

    @property
    def architecture(self) -> str:
        """The Hugging Face class name, e.g. "RobertaForTokenClassification"."""
        return ARCHITECTURES[self.kind]


class RobertaClassificationHead(nn.Module):
    """Sequence head on the <s> vectors: dense, tanh, out_proj (Hugging Face's, without dropout).

    Exported as `task_head.pt`: cls[n, H] -> logits[n, num_labels].
    """

    def __init__(self, config: roberta_ref.RobertaConfig, num_labels: int):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.out_proj = nn.Linear(config.hidden_size, num_labels)
        self.hidden_size = config.hidden_size
        self.num_labels = num_labels

    def forward(self, cls: torch.Tensor) -> torch.Tensor:
        return self.out_proj(torch.tanh(self.dense(cls)))

    @torch.no_grad()
    def init_random_weights(self, generator: torch.Generator) -> None:
        """dense keeps tanh's input near unit scale; out_proj spreads the logits."""
        width = math.sqrt(self.hidden_size)
        roberta_ref.init_weights(self.dense, generator, 1.0 / width)
        roberta_ref.init_weights(self.out_proj, generator, RANDOM_LOGIT_STD / (_TANH_RMS * width))


class RobertaTokenClassificationHead(nn.Linear):
    """Token head: one Linear from every token's hidden state to the label logits.

    A Linear itself, so its parameters are `classifier.weight` and `classifier.bias`
    as in Hugging Face. Exported as `task_head.pt`: hidden[n, T, H] -> logits[n, T, num_labels].
    """

    def __init__(self, config: roberta_ref.RobertaConfig, num_labels: int):
        super().__init__(config.hidden_size, num_labels)
        self.hidden_size = config.hidden_size
        self.num_labels = num_labels

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:  # pylint: disable=arguments-renamed
        return F.linear(hidden, self.weight, self.bias)

    @torch.no_grad()
    def init_random_weights(self, generator: torch.Generator) -> None:
        """Weights scaled so the logits of a unit-scale hidden state have RANDOM_LOGIT_STD."""
        roberta_ref.init_weights(self, generator, RANDOM_LOGIT_STD / math.sqrt(self.hidden_size))


class _RobertaWithTaskHead(nn.Module):
    """Encoder + `classifier`; the shared part of the two task-head models."""

    architecture = ""  # set by each subclass
    kind = ""  # set by each subclass
    lm_head = None  # fine-tuned classifiers carry no masked-LM head

    def __init__(self, config: roberta_ref.RobertaConfig, head: TaskHeadConfig, head_class):
        super().__init__()
        if head.kind != self.kind:
            raise ValueError(f"{type(self).__name__} needs a {self.kind} head, got {head.kind}")
        self.config = config
        self.head = head
        self.roberta = roberta_ref.RobertaModel(config)
        self.classifier = head_class(config, head.num_labels)

    @torch.no_grad()
    def init_random_weights(self, seed: int, std: float = 0.02) -> None:
        """The encoder as RobertaForMaskedLM's of the same seed, then a peaked random head."""
        generator = torch.Generator().manual_seed(seed)
        roberta_ref.init_weights(self.roberta, generator, std)
        self.classifier.init_random_weights(generator)


class RobertaForSequenceClassification(_RobertaWithTaskHead):
    """Parameter names equal Hugging Face's `RobertaForSequenceClassification`."""

    architecture = ARCHITECTURES[SEQUENCE]
    kind = SEQUENCE

    def __init__(self, config: roberta_ref.RobertaConfig, head: TaskHeadConfig):
        super().__init__(config, head, RobertaClassificationHead)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Label logits [B, num_labels] from each row's <s> vector."""
        return self.classifier(self.roberta(input_ids, attention_mask)[:, 0])


class RobertaForTokenClassification(_RobertaWithTaskHead):
    """Parameter names equal Hugging Face's `RobertaForTokenClassification`."""

    architecture = ARCHITECTURES[TOKEN]
    kind = TOKEN

    def __init__(self, config: roberta_ref.RobertaConfig, head: TaskHeadConfig):
        super().__init__(config, head, RobertaTokenClassificationHead)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Label logits [B, T, num_labels] at every position."""
        return self.classifier(self.roberta(input_ids, attention_mask))


ReferenceModel = Union[roberta_ref.RobertaForMaskedLM, RobertaForSequenceClassification,
                       RobertaForTokenClassification]


def build_model(config: roberta_ref.RobertaConfig,
                head: Optional[TaskHeadConfig]) -> ReferenceModel:
    """The masked LM without a head config, else the classifier of the head's kind (eval mode)."""
    if head is None:
        return roberta_ref.RobertaForMaskedLM(config).eval()
    model_class = RobertaForSequenceClassification if head.kind == SEQUENCE \
        else RobertaForTokenClassification
    return model_class(config, head).eval()
