"""Turns resolved Settings into a gRPC channel: credentials, round robin,
client-side health checking and the receive limit.

Called by SecureBertClient only; stateless.
"""

import json

import grpc

from .options import Settings

# The health service name the server reports SERVING / NOT_SERVING for.
SERVICE_NAME = "securebert.v1.SecureBert"


def service_config(health_checked: bool) -> str:
    """Round robin over every address of the target; with `health_checked`,
    only over those whose grpc.health.v1 status for SERVICE_NAME is SERVING
    (gRPC watches it), so a replica that is loading or draining gets no new
    calls. No retryPolicy: the client retries itself (client.py)."""
    config = {"loadBalancingConfig": [{"round_robin": {}}]}
    if health_checked:
        config["healthCheckConfig"] = {"serviceName": SERVICE_NAME}
    return json.dumps(config)


def create_channel(settings: Settings, health_checked: bool) -> grpc.Channel:
    """A channel to settings.target; it connects lazily, so a server that is
    down fails the first call (UNAVAILABLE), not this."""
    options = [
        ("grpc.max_receive_message_length", settings.max_receive_message_bytes),
        ("grpc.service_config", service_config(health_checked)),
        # A DNS TXT record must not replace the balancing policy.
        ("grpc.service_config_disable_resolution", 1),
    ]
    if settings.authority:
        options.append(("grpc.default_authority", settings.authority))
    if settings.server_name:
        options.append(("grpc.ssl_target_name_override", settings.server_name))
    if not settings.tls:
        return grpc.insecure_channel(settings.target, options=options)
    credentials = grpc.ssl_channel_credentials(
        root_certificates=settings.root_certificates, private_key=settings.private_key,
        certificate_chain=settings.certificate_chain)
    if settings.token:
        # "authorization: Bearer <token>" on every call; gRPC attaches call
        # credentials to TLS channels only.
        credentials = grpc.composite_channel_credentials(
            credentials, grpc.access_token_call_credentials(settings.token))
    return grpc.secure_channel(settings.target, credentials, options=options)
