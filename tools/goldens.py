#!/usr/bin/env python3
"""Golden outputs written beside an exported model, for the C++ model-runner tests.

Each case is a fixed, seeded id sequence (<s> ... </s>, some ids replaced by
<mask>) run alone and unpadded through the eager reference model. The file
holds the flat row-major last_hidden_state [T*H] and, at every mask position
in order, the top-k vocabulary ids with their softmax probabilities ("lm" is
[] for a model without an LM head). A model with a task head also gets the
head's raw logits, flat row-major: a sequence head's [L] on the case's <s>
vector, a token head's [T*L] on every token (<s> and </s> included):

    {"top_k": 10, "cases": [{"name", "input_ids", "last_hidden_state",
                             "lm": [{"position", "topk_ids", "topk_scores"}],
                             "head_logits": [...]}]}

The inputs depend only on the vocabulary, not on the model's seed, so every
model exported from the same vocabulary shares them.
"""

import dataclasses
from typing import Dict, List, Optional, Sequence

import torch

import roberta_heads

TOP_K = 10
# Seed of the golden inputs; case i uses INPUT_SEED + i so cases are independent.
INPUT_SEED = 5150
# Models wider than this get only the first SHORT_CASES cases, to keep the file small.
FULL_GOLDENS_MAX_HIDDEN = 256
SHORT_CASES = 3


@dataclasses.dataclass(frozen=True)
class CaseSpec:
    """One golden input: its name, token count (incl. <s> and </s>) and <mask> positions."""

    name: str  # stable identifier the C++ tests may refer to
    length: int  # tokens including <s> and </s>
    mask_positions: Sequence[int]  # indices (0 is <s>) that hold <mask>, ascending


CASES = (
    CaseSpec("len3_mask1", 3, (1,)),
    CaseSpec("len7_mask1", 7, (3,)),
    CaseSpec("len16_mask3", 16, (2, 7, 11)),
    CaseSpec("len41_mask2", 41, (5, 30)),
    CaseSpec("len130_nomask", 130, ()),
)


def cases_for(hidden_size: int) -> Sequence[CaseSpec]:
    """All cases for small models; the shortest few for wide ones."""
    return CASES if hidden_size <= FULL_GOLDENS_MAX_HIDDEN else CASES[:SHORT_CASES]


def case_input_ids(index: int, spec: CaseSpec, candidates: Sequence[int],
                   special: Dict[str, Dict]) -> List[int]:
    """The deterministic ids of case `index`: <s>, seeded ordinary tokens and masks, </s>."""
    generator = torch.Generator().manual_seed(INPUT_SEED + index)
    picks = torch.randint(len(candidates), (spec.length - 2,), generator=generator)
    ids = [special["bos"]["id"]] + [candidates[int(i)] for i in picks] + [special["eos"]["id"]]
    for position in spec.mask_positions:
        if not 0 < position < spec.length - 1:
            raise ValueError(f"case {spec.name}: mask position {position} is not inside the text")
        ids[position] = special["mask"]["id"]
    return ids


def _float32_list(values: torch.Tensor) -> List[float]:
    """Shortest decimal that round-trips each float32, so the JSON stays small and exact."""
    return [float(str(v)) for v in values.detach().cpu().to(torch.float32).numpy().reshape(-1)]


@torch.no_grad()
def run_case(model: roberta_heads.ReferenceModel, input_ids: List[int],
             mask_id: int, top_k: int = TOP_K) -> Dict:
    """Hidden states, top-k mask predictions and task-head logits for one unpadded sequence."""
    ids = torch.tensor([input_ids], dtype=torch.int64)
    hidden = model.roberta(ids, torch.ones_like(ids))[0]
    positions = [i for i, token in enumerate(input_ids) if token == mask_id]
    lm = []
    if positions and model.lm_head is not None:
        probs = torch.softmax(model.lm_head(hidden[positions]), dim=-1)
        scores, top_ids = torch.topk(probs, top_k, dim=-1)
        for row, position in enumerate(positions):
            lm.append({"position": position,
                       "topk_ids": [int(i) for i in top_ids[row]],
                       "topk_scores": _float32_list(scores[row])})
    case = {"input_ids": list(input_ids), "last_hidden_state": _float32_list(hidden), "lm": lm}
    if model.head is not None:
        # The server's inputs: the <s> vector for a sequence head, every token for a token head.
        rows = hidden[:1] if model.head.kind == roberta_heads.SEQUENCE else hidden
        case["head_logits"] = _float32_list(model.classifier(rows))
    return case


def compute(model: roberta_heads.ReferenceModel, special: Dict[str, Dict],
            candidates: Sequence[int], specs: Optional[Sequence[CaseSpec]] = None) -> Dict:
    """The goldens document for `model` (eager, float32)."""
    if not candidates:
        raise ValueError("no ordinary vocabulary ids to build golden inputs from")
    specs = cases_for(model.config.hidden_size) if specs is None else specs
    cases = []
    for index, spec in enumerate(specs):
        ids = case_input_ids(index, spec, candidates, special)
        cases.append({"name": spec.name, **run_case(model, ids, special["mask"]["id"])})
    return {"top_k": TOP_K, "cases": cases}

