#!/usr/bin/env python3
"""Read and write safetensors files without requiring the `safetensors` package.

Layout (https://huggingface.co/docs/safetensors): an 8-byte little-endian
unsigned header length N; N bytes of UTF-8 JSON mapping each tensor name to
{"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to the
byte right after the header) plus an optional "__metadata__" string map; then
the raw little-endian tensor bytes, row-major.

`load_file` uses the `safetensors` package when it is importable and this
module's own reader otherwise; `read_file` is always this module's reader.
`save_file` (used by tests and fake checkpoints) always writes with this module.
"""

import json
import struct
import sys
from pathlib import Path
from typing import Dict, Optional, Tuple

import torch

# safetensors dtype tag -> torch dtype.
DTYPES: Dict[str, torch.dtype] = {
    "F64": torch.float64,
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "I64": torch.int64,
    "I32": torch.int32,
    "I16": torch.int16,
    "I8": torch.int8,
    "U8": torch.uint8,
    "BOOL": torch.bool,
}
_TAGS: Dict[torch.dtype, str] = {v: k for k, v in DTYPES.items()}

# Headers larger than this are refused (the reference implementation's limit).
MAX_HEADER_BYTES = 100 * 1024 * 1024


class SafetensorsError(ValueError):
    """A file that does not follow the safetensors layout."""


def load_file(path: Path) -> Dict[str, torch.Tensor]:
    """All tensors of a safetensors file, on the CPU."""
    try:
        # Optional dependency, imported late: memory-mapped and faster when installed.
        from safetensors.torch import load_file as st_load  # pylint: disable=C0415
    except ImportError:
        return read_file(path)
    try:
        return st_load(str(path), device="cpu")
    except Exception as e:  # the package's own error type is not importable by a stable name
        raise SafetensorsError(f"{path}: {e}") from e


def _parse_header(path: Path, data: bytes) -> Tuple[Dict[str, dict], int]:
    """The header's tensor entries and the offset where tensor data starts."""
    if len(data) < 8:
        raise SafetensorsError(f"{path}: {len(data)} bytes, too short for a safetensors header")
    (header_len,) = struct.unpack("<Q", data[:8])
    if header_len > MAX_HEADER_BYTES or 8 + header_len > len(data):
        raise SafetensorsError(
            f"{path}: header length {header_len} does not fit in the file ({len(data)} bytes); "
            "the file is truncated or not safetensors")
    try:
        header = json.loads(data[8:8 + header_len].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SafetensorsError(f"{path}: header is not valid UTF-8 JSON: {e}") from e
    if not isinstance(header, dict):
        raise SafetensorsError(f"{path}: header is not a JSON object")
    header.pop("__metadata__", None)
    return header, 8 + header_len


def _tensor_from_entry(path: Path, name: str, entry: dict, payload: memoryview) -> torch.Tensor:
    if not isinstance(entry, dict) or not {"dtype", "shape", "data_offsets"} <= entry.keys():
        raise SafetensorsError(f"{path}: tensor {name!r} lacks dtype/shape/data_offsets")
    dtype = DTYPES.get(entry["dtype"])
    if dtype is None:
        raise SafetensorsError(f"{path}: tensor {name!r} has unsupported dtype {entry['dtype']!r}")
    shape = entry["shape"]
    offsets = entry["data_offsets"]
    if (not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape)
            or not isinstance(offsets, list) or len(offsets) != 2
            or not all(isinstance(o, int) for o in offsets)):
        raise SafetensorsError(f"{path}: tensor {name!r} has a malformed shape or data_offsets")
    begin, end = offsets
    numel = 1
    for d in shape:
        numel *= d
    itemsize = torch.empty((), dtype=dtype).element_size()
    if not 0 <= begin <= end or end - begin != numel * itemsize:
        raise SafetensorsError(
            f"{path}: tensor {name!r} data_offsets {offsets} do not match "
            f"shape {shape} of {entry['dtype']} ({numel * itemsize} bytes)")
    if end > len(payload):
        raise SafetensorsError(
            f"{path}: tensor {name!r} ends at byte {end} of the data but the file holds only "
            f"{len(payload)}; the file is truncated")
    if numel == 0:
        return torch.empty(shape, dtype=dtype)
    chunk = payload[begin:end]
    if begin % itemsize:
        # Writers align tensors; an unaligned one is copied rather than viewed in place.
        chunk = bytearray(chunk)
    return torch.frombuffer(chunk, dtype=dtype).view(shape)


def _require_little_endian() -> None:
    # Tensors are viewed in place; on a big-endian host every element would need swapping.
    if sys.byteorder != "little":
        raise RuntimeError("safetensors_io supports little-endian hosts only")


def read_file(path: Path) -> Dict[str, torch.Tensor]:
    """Parses a safetensors file with this module's reader; raises SafetensorsError if malformed.

    The returned tensors share one writable buffer holding the file's bytes.
    """
    _require_little_endian()
    path = Path(path)
    data = bytearray(path.read_bytes())
    header, data_start = _parse_header(path, data)
    payload = memoryview(data)[data_start:]
    return {name: _tensor_from_entry(path, name, entry, payload)
            for name, entry in header.items()}


def save_file(tensors: Dict[str, torch.Tensor], path: Path,
              metadata: Optional[Dict[str, str]] = None) -> None:
    """Writes tensors (each stored separately, even when they share memory) as safetensors."""
    _require_little_endian()
    header: Dict[str, object] = {}
    if metadata:
        header["__metadata__"] = dict(metadata)
    blobs = []
    offset = 0
    for name in sorted(tensors):
        tensor = tensors[name].detach().cpu().contiguous()
        if tensor.dtype not in _TAGS:
            raise ValueError(f"tensor {name!r}: dtype {tensor.dtype} has no safetensors tag")
        raw = tensor.reshape(-1).view(torch.uint8).numpy().tobytes() if tensor.numel() else b""
        header[name] = {"dtype": _TAGS[tensor.dtype], "shape": list(tensor.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
    encoded += b" " * (-len(encoded) % 8)  # the data starts 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for raw in blobs:
            f.write(raw)
