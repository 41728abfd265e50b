"""Tests of bench/forward_profile.py's bookkeeping (op categories, torch.profiler's and ORT's
profiles summed into them, the report), on hand-made profiles."""

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import forward_profile  # noqa: E402  pylint: disable=wrong-import-position


@pytest.mark.parametrize("op, expected", [
    ("aten::addmm", "linear GEMM"), ("aten::linear", "linear GEMM"),
    ("quantized::linear_dynamic", "linear GEMM"), ("MatMulInteger", "linear GEMM"),
    ("aten::bmm", "attention products"), ("aten::matmul", "attention products"),
    ("aten::_scaled_dot_product_flash_attention_for_cpu", "fused attention"),
    ("aten::_softmax", "softmax"), ("Softmax", "softmax"),
    ("aten::gelu", "GELU"), ("Erf", "GELU"),
    ("aten::native_layer_norm", "LayerNorm"), ("LayerNormalization", "LayerNorm"),
    ("aten::add", "element-wise"), ("aten::div", "element-wise"),
    ("aten::copy_", "layout copies"), ("Transpose", "layout copies"),
    ("aten::quantize_per_tensor", "activation quantization"),
    ("DynamicQuantizeLinear", "activation quantization"),
    ("aten::embedding", "embedding"), ("Gather", "embedding"),
    ("aten::something_new", "other"),
])
def test_ops_fall_into_their_category(op, expected):
    assert forward_profile.category(op) == expected


def test_ort_matmuls_are_told_apart_by_node_name():
    assert forward_profile.ort_category(
        "MatMul", "/encoder/layer.3/attention/self/MatMul") == "attention products"
    assert forward_profile.ort_category(
        "MatMul", "/encoder/layer.3/attention/self/MatMul_1") == "attention products"
    assert forward_profile.ort_category(
        "MatMul", "/encoder/layer.3/attention/self/query/MatMul") == "linear GEMM"
    assert forward_profile.ort_category(
        "MatMul", "/encoder/layer.3/intermediate/dense/MatMul") == "linear GEMM"
    assert forward_profile.ort_category("Softmax", "/x/Softmax") == "softmax"


def test_torch_self_times_sum_by_category_and_op():
    events = [SimpleNamespace(key="aten::addmm", self_cpu_time_total=600.0),
              SimpleNamespace(key="aten::mm", self_cpu_time_total=100.0),
              SimpleNamespace(key="aten::bmm", self_cpu_time_total=200.0),
              SimpleNamespace(key="aten::linear", self_cpu_time_total=0.0),
              SimpleNamespace(key="aten::_softmax", self_cpu_time_total=100.0)]
    by_category, by_op = forward_profile.torch_op_times(events)
    assert by_category == {"linear GEMM": 700.0, "attention products": 200.0, "softmax": 100.0}
    assert "aten::linear" not in by_op and by_op["aten::addmm"] == 600.0
    table = forward_profile.shares(by_category)
    assert list(table) == ["linear GEMM", "attention products", "softmax"]
    assert table["linear GEMM"] == {"us": 700.0, "share": 0.7}


def test_ort_trace_counts_only_node_kernel_events():
    trace = [{"cat": "Session", "name": "model_run", "dur": 5000, "ts": 0},
             {"cat": "Node", "name": "/a/attention/self/query/MatMul_kernel_time", "dur": 300,
              "args": {"op_name": "MatMul"}},
             {"cat": "Node", "name": "/a/attention/self/MatMul_kernel_time", "dur": 100,
              "args": {"op_name": "MatMul"}},
             {"cat": "Node", "name": "/a/attention/self/MatMul_fence_before", "dur": 0,
              "args": {"op_name": "MatMul"}},
             {"cat": "Node", "name": "/a/LayerNorm_kernel_time", "dur": 100,
              "args": {"op_name": "LayerNormalization"}}]
    by_category, by_op = forward_profile.ort_op_times(trace)
    assert by_category == {"linear GEMM": 300.0, "attention products": 100.0, "LayerNorm": 100.0}
    assert by_op == {"MatMul": 400.0, "LayerNormalization": 100.0}


def sample_report():
    """A forward_profile.py report of two paths, as the harness stores it."""
    def path(tps, categories, diff=0.0, cosine=1.0):
        return {"parity": {"max_abs_diff": diff, "min_token_cosine": cosine, "ok": True},
                "tokens_per_s": {"2 forward(s) x 1 thread(s), batch 1": tps,
                                 "1 forward(s) x 2 thread(s), batch 8": tps / 2},
                "profile": {"categories": forward_profile.shares(categories), "top_ops": {}}}
    return {"available": True, "texts": 16, "tokens": 2000, "cores": 2,
            "versions": {"torch": "2.x", "onnxruntime": "1.x"},
            "profile": "batch 8, 1 thread, 2 batches",
            "paths": {"torchscript": path(900.0, {"linear GEMM": 75.0, "softmax": 25.0}, 0.0),
                      "onnxruntime-int8": path(1500.0, {"linear GEMM": 50.0, "other": 50.0},
                                               cosine=0.995)}}


def test_markdown_shows_speed_parity_and_shares():
    text = forward_profile.markdown(sample_report())
    assert "| torchscript | 900.0 | 450.0 | max diff 0 |" in text
    assert "| onnxruntime-int8 | 1500.0 | 750.0 | cosine >= 0.99500 |" in text
    assert "| linear GEMM | 75.0% | 50.0% |" in text
    assert "| softmax | 25.0% | 0.0% |" in text
    assert "| GELU |" not in text  # no path spent time there
