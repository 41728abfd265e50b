"""securebert.v1: modules generated from proto/securebert/v1/securebert.proto.

securebert_pb2 (messages), securebert_pb2_grpc (stubs) and their .pyi are
written here by the package build (setup.py runs grpc_tools.protoc); they are
git-ignored and never committed.
"""
