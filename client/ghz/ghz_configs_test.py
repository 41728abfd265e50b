"""Checks the ghz configs in this folder: every RPC has one, each names an
existing RPC and points at files that exist, and every sample message
parses as the RPC's request type (proto3 JSON, as ghz reads it). Run by
ctest with the generated stubs on PYTHONPATH; ghz itself is not needed (the
end-to-end run of every config is ghz_e2e_test.py)."""

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
        self.assertEqual(set(SERVICE.methods_by_name), calls)

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
                # ghz sends a stream's messages from the data array; a count
                # only makes sense for a client-streaming call.
                if "stream-call-count" in config:
                    self.assertTrue(SERVICE.methods_by_name[method].client_streaming, method)
                    self.assertIsInstance(config["stream-call-count"], int)
                    self.assertGreater(config["stream-call-count"], 0)

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
                    if "inputs" in request_type.DESCRIPTOR.fields_by_name:
                        self.assertTrue(request.inputs)
                    if method.name == "PredictMask":
                        self.assertTrue(all("<mask>" in text for text in request.inputs))
                    if method.name == "ExtractEntities":
                        self.assertGreaterEqual(request.threshold, 0.0)
                        self.assertLess(request.threshold, 1.0)
                    if (method.input_type.name == "EmbedRequest"
                            and request.pooling == securebert_pb2.POOLING_NONE):
                        self.assertIn("max-recv-message-size", config)

    def test_extract_entities_samples_use_every_aggregation(self):
        # The strategies cost differently (word grouping); a load test covers them all.
        for name, config in configs():
            if config["call"].rsplit(".", 1)[1] != "ExtractEntities":
                continue
            with open(os.path.join(HERE, config["data-file"]), encoding="utf-8") as f:
                messages = json.load(f)
            used = {json_format.ParseDict(m, securebert_pb2.ExtractEntitiesRequest()).aggregation
                    for m in messages}
            self.assertEqual(set(securebert_pb2.Aggregation.values()), used, name)


if __name__ == "__main__":
    unittest.main()
