"""Checks the ghz configs in this folder: each names an existing RPC, points
at files that exist, and every sample message parses as the RPC's request
type (proto3 JSON, as ghz reads it). Run by ctest with the generated stubs
on PYTHONPATH; ghz itself is not needed."""

import glob
import json
import os
import unittest

from google.protobuf import json_format

from securebert.v1 import securebert_pb2

HERE = os.path.dirname(os.path.abspath(__file__))
SERVICE = securebert_pb2.DESCRIPTOR.services_by_name["SecureBert"]


def configs():
    for path in sorted(glob.glob(os.path.join(HERE, "*.json"))):
        with open(path, encoding="utf-8") as f:
            yield os.path.basename(path), json.load(f)


class GhzConfigsTest(unittest.TestCase):
    def test_there_is_a_config_per_rpc(self):
        calls = {config["call"].rsplit(".", 1)[1] for _, config in configs()}
        self.assertTrue({"Embed", "PredictMask", "Tokenize"} <= calls, calls)

    def test_configs_are_runnable(self):
        for name, config in configs():
            with self.subTest(config=name):
                for key in ("call", "host", "total", "concurrency", "data-file"):
                    self.assertIn(key, config)
                self.assertTrue(config.get("insecure"), "the server is plaintext by default")
                package_service, method = config["call"].rsplit(".", 1)
                self.assertEqual(package_service, SERVICE.full_name)
                self.assertIn(method, SERVICE.methods_by_name)
                for path in [config.get("proto")] + config.get("import-paths", []):
                    if path:
                        self.assertTrue(os.path.exists(os.path.join(HERE, path)), path)

    def test_sample_data_parses_as_the_request_type(self):
        for name, config in configs():
            method = SERVICE.methods_by_name[config["call"].rsplit(".", 1)[1]]
            request_type = getattr(securebert_pb2, method.input_type.name)
            with open(os.path.join(HERE, config["data-file"]), encoding="utf-8") as f:
                messages = json.load(f)
            self.assertIsInstance(messages, list)
            self.assertTrue(messages)
            for index, message in enumerate(messages):
                with self.subTest(config=name, message=index):
                    request = json_format.ParseDict(message, request_type())
                    self.assertTrue(request.inputs)
                    if method.name == "PredictMask":
                        self.assertTrue(all("<mask>" in text for text in request.inputs))
                    if method.name == "Embed" and request.pooling == securebert_pb2.POOLING_NONE:
                        self.assertIn("max-recv-message-size", config)


if __name__ == "__main__":
    unittest.main()
