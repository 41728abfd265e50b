"""Generated protobuf and gRPC modules of securebert-serve's API (see v1)."""
