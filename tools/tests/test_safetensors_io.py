"""The safetensors reader on files assembled byte by byte, and its errors on broken ones."""

import json
import struct

import numpy as np
import pytest
import torch

import safetensors_io


def assemble(entries, payload: bytes, pad_to: int = 8) -> bytes:
    """A safetensors file from header entries and raw data, built without safetensors_io."""
    header = json.dumps(entries).encode("utf-8")
    header += b" " * (-len(header) % pad_to)
    return struct.pack("<Q", len(header)) + header + payload


def test_reads_hand_written_f32_f16_i64(tmp_path):
    f32 = np.array([[1.5, -2.0, 3.25], [0.0, 1e-3, -7.0]], dtype="<f4")
    f16 = np.array([0.5, -1.0, 65504.0, 2.0 ** -14], dtype="<f2")
    i64 = np.array([[1, -2], [3, 2 ** 40]], dtype="<i8")
    payload = f32.tobytes() + f16.tobytes() + i64.tobytes()
    a, b = len(f32.tobytes()), len(f32.tobytes()) + len(f16.tobytes())
    entries = {
        "__metadata__": {"format": "pt"},
        "w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, a]},
        "h": {"dtype": "F16", "shape": [4], "data_offsets": [a, b]},
        "ids": {"dtype": "I64", "shape": [2, 2], "data_offsets": [b, len(payload)]},
    }
    path = tmp_path / "hand.safetensors"
    path.write_bytes(assemble(entries, payload))
    tensors = safetensors_io.read_file(path)
    assert set(tensors) == {"w", "h", "ids"}
    assert tensors["w"].dtype == torch.float32 and torch.equal(tensors["w"], torch.from_numpy(f32))
    assert tensors["h"].dtype == torch.float16
    assert torch.equal(tensors["h"], torch.from_numpy(f16.astype(np.float16)))
    assert tensors["ids"].dtype == torch.int64 and tensors["ids"][1, 1] == 2 ** 40


def test_reads_bf16_scalar_and_empty_tensors(tmp_path):
    bf16 = struct.pack("<HH", 0x3F80, 0xC040)  # 1.0, -3.0
    payload = bf16 + struct.pack("<f", 4.0)
    entries = {"b": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]},
               "s": {"dtype": "F32", "shape": [], "data_offsets": [4, 8]},
               "e": {"dtype": "F32", "shape": [0, 3], "data_offsets": [8, 8]}}
    path = tmp_path / "misc.safetensors"
    path.write_bytes(assemble(entries, payload))
    tensors = safetensors_io.read_file(path)
    assert tensors["b"].tolist() == [1.0, -3.0] and tensors["b"].dtype == torch.bfloat16
    assert tensors["s"].shape == () and float(tensors["s"]) == 4.0
    assert tensors["e"].shape == (0, 3)


def test_reads_unaligned_tensor(tmp_path):
    payload = b"\x07" + struct.pack("<f", 2.5)
    entries = {"u": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]},
               "f": {"dtype": "F32", "shape": [1], "data_offsets": [1, 5]}}
    path = tmp_path / "unaligned.safetensors"
    path.write_bytes(assemble(entries, payload))
    tensors = safetensors_io.read_file(path)
    assert tensors["u"].item() == 7 and tensors["f"].item() == 2.5


def test_round_trip_every_dtype(tmp_path):
    tensors = {name: torch.arange(6).reshape(2, 3).to(dtype)
               for name, dtype in safetensors_io.DTYPES.items()}
    path = tmp_path / "all.safetensors"
    safetensors_io.save_file(tensors, path, {"k": "v"})
    (header_len,) = struct.unpack("<Q", path.read_bytes()[:8])
    assert header_len % 8 == 0
    back = safetensors_io.read_file(path)
    for name, tensor in tensors.items():
        assert back[name].dtype == tensor.dtype and torch.equal(back[name], tensor), name


def test_load_file_agrees_with_read_file(tmp_path):
    path = tmp_path / "x.safetensors"
    safetensors_io.save_file({"a": torch.randn(4, 5)}, path)
    assert torch.equal(safetensors_io.load_file(path)["a"], safetensors_io.read_file(path)["a"])


@pytest.fixture
def good_file(tmp_path):
    path = tmp_path / "good.safetensors"
    safetensors_io.save_file({"a": torch.randn(8, 8), "b": torch.randn(3)}, path)
    return path


def test_truncated_data_is_reported(good_file):
    data = good_file.read_bytes()
    good_file.write_bytes(data[:-20])
    with pytest.raises(safetensors_io.SafetensorsError, match="truncated"):
        safetensors_io.read_file(good_file)


def test_truncated_header_is_reported(good_file):
    good_file.write_bytes(good_file.read_bytes()[:30])
    with pytest.raises(safetensors_io.SafetensorsError, match="does not fit"):
        safetensors_io.read_file(good_file)


def test_too_short_file_is_reported(tmp_path):
    path = tmp_path / "short.safetensors"
    path.write_bytes(b"\x01\x02")
    with pytest.raises(safetensors_io.SafetensorsError, match="too short"):
        safetensors_io.read_file(path)


def test_corrupt_header_is_reported(good_file):
    data = bytearray(good_file.read_bytes())
    data[8] = ord("#")
    good_file.write_bytes(bytes(data))
    with pytest.raises(safetensors_io.SafetensorsError, match="not valid UTF-8 JSON"):
        safetensors_io.read_file(good_file)


@pytest.mark.parametrize("entry, message", [
    ({"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}, "do not match"),
    ({"dtype": "Q4", "shape": [1], "data_offsets": [0, 4]}, "unsupported dtype"),
    ({"dtype": "F32", "shape": [1]}, "lacks"),
    ({"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}, "malformed"),
])
def test_inconsistent_entry_is_reported_with_its_name(tmp_path, entry, message):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(assemble({"layer.weight": entry}, b"\x00" * 8))
    with pytest.raises(safetensors_io.SafetensorsError, match=f"'layer.weight'.*{message}"):
        safetensors_io.read_file(path)
