"""What a SecureBertClient is told (Options) and what it makes of it (Settings).

`resolve(options, environ)` applies the defaults, checks the rules, reads
the environment for TLS fields left empty, and reads the PEM files; it is
the only place that does, so the rules are the same for every caller and
tests need no channel. The rules are the Go client's (client/go/README.md):

- TLS is the default; plaintext needs `insecure=True`.
- With `insecure=True` the TLS fields and `token` must be empty and the
  SECUREBERT_* variables are not read: credentials never go out in plaintext.
- With TLS, each of ca_file, cert_file, key_file and token left empty is
  taken from SECUREBERT_CA_FILE, SECUREBERT_CERT_FILE, SECUREBERT_KEY_FILE
  and SECUREBERT_TOKEN; a client certificate and its key come together.
- `target` is "host:port" or a gRPC URI (dns:///name:port, ipv4:a:p,b:p,
  ipv6:[a]:p,..., unix:path); a bare "a:p,b:p" means `addresses`. Either
  `target` or `addresses`, not both.

Immutable values; safe to share between threads.
"""

import dataclasses
import ipaddress
import math
from typing import Mapping, Optional, Sequence, Tuple

DEFAULT_TARGET = "127.0.0.1:50051"
# Full hidden states (pooling="none") are ~1.5 MB per 512-token input, far
# over gRPC's 4 MiB default for a batch of them.
DEFAULT_MAX_RECEIVE_MESSAGE_BYTES = 64 * 1024 * 1024

# Environment variables for the TLS settings left empty: one set of names
# for all of the project's clients.
ENV_CA_FILE = "SECUREBERT_CA_FILE"
ENV_CERT_FILE = "SECUREBERT_CERT_FILE"
ENV_KEY_FILE = "SECUREBERT_KEY_FILE"
ENV_TOKEN = "SECUREBERT_TOKEN"

# URI schemes gRPC's C core resolves; any other target is "host:port" or a
# bare address list. The C++ client's list (client/channel_factory.cc).
_SCHEMES = ("dns:", "ipv4:", "ipv6:", "unix:", "unix-abstract:", "vsock:")


@dataclasses.dataclass(frozen=True)
class Backoff:
    """Wait before retry r (0 for the first) of a call that failed with
    UNAVAILABLE: min(initial_s * multiplier**r, max_s) scaled by a random
    factor in [1 - jitter, 1 + jitter], the C++ and Go clients' formula."""

    # Wait before the first retry, in seconds (before jitter).
    initial_s: float = 0.05
    # Each further wait is this many times the previous one; at least 1.
    multiplier: float = 2.0
    # Upper bound of one wait, in seconds (before jitter).
    max_s: float = 2.0
    # Random spread of each wait, so that many clients do not retry in step;
    # 0 disables it, below 1.
    jitter: float = 0.2

    def validate(self):
        """Raises ValueError naming the first field out of range."""
        if not self.initial_s > 0:
            raise ValueError(f"Backoff.initial_s must be > 0, not {self.initial_s}")
        if not self.max_s >= self.initial_s:
            raise ValueError(f"Backoff.max_s ({self.max_s}) must be >= "
                             f"Backoff.initial_s ({self.initial_s})")
        if not self.multiplier >= 1:
            raise ValueError(f"Backoff.multiplier must be >= 1, not {self.multiplier}")
        if not 0 <= self.jitter < 1:
            raise ValueError(f"Backoff.jitter must be in [0, 1), not {self.jitter}")

    def delay_s(self, retry, unit_random):
        """Seconds to wait before retry `retry` (0-based), given unit_random
        in [0, 1) drawn by the caller."""
        base = min(self.initial_s * self.multiplier ** max(retry, 0), self.max_s)
        return max(base * (1 + self.jitter * (2 * min(max(unit_random, 0.0), 1.0) - 1)), 0.0)


@dataclasses.dataclass(frozen=True)
class Options:
    """Where the server is, how to reach it and how calls behave; the keyword
    arguments of SecureBertClient. Empty strings mean "not set"."""

    # "host:port", a gRPC URI (dns:///name:port: round robin over every
    # address of name; ipv4:a:p,b:p; ipv6:[a]:p,...; unix:path) or a bare
    # "a:p,b:p" (read as addresses). Empty, with no addresses: DEFAULT_TARGET.
    target: str = ""
    # IP-literal "host:port" addresses ("10.0.0.1:50051", "[::1]:50051"),
    # called round robin; a fixed list. Exclusive with target. A name that
    # needs resolving goes in target as dns:///name:port.
    addresses: Sequence[str] = ()
    # Deadline of each call in seconds, retries and waits between them
    # included; None: no deadline.
    timeout_s: Optional[float] = 30.0
    # Attempts per call when calls fail with UNAVAILABLE, the first
    # included; 1 disables retries.
    max_attempts: int = 4
    # Waits between attempts.
    backoff: Backoff = Backoff()
    # Largest response accepted, in bytes.
    max_receive_message_bytes: int = DEFAULT_MAX_RECEIVE_MESSAGE_BYTES
    # Plaintext instead of TLS. The default is TLS; today's server speaks
    # plaintext unless started with TLS, so set this there.
    insecure: bool = False
    # TLS: PEM file of root certificates to trust. Empty: $SECUREBERT_CA_FILE,
    # else gRPC's default roots.
    ca_file: str = ""
    # TLS: PEM client certificate chain, for mutual TLS; needs key_file.
    # Empty: $SECUREBERT_CERT_FILE.
    cert_file: str = ""
    # TLS: PEM private key of cert_file. Empty: $SECUREBERT_KEY_FILE.
    key_file: str = ""
    # TLS: name checked against the server certificate. Empty: the target's
    # host (with an address list, the first address's).
    server_name: str = ""
    # Bearer token, sent as "authorization: Bearer <token>" on every call.
    # Empty: $SECUREBERT_TOKEN; none if that is empty too.
    token: str = ""


@dataclasses.dataclass(frozen=True)
class Settings:
    """Options with the defaults applied, the rules checked and files read."""

    # What grpc.secure_channel / insecure_channel get: a URI or "host:port".
    target: str
    # The :authority of an address list (its first address), which TLS also
    # checks the certificate against; "" leaves it to gRPC.
    authority: str
    # Per call, retries included; None: no deadline.
    timeout_s: Optional[float]
    # >= 1, the first attempt included.
    max_attempts: int
    # Validated.
    backoff: Backoff
    # > 0.
    max_receive_message_bytes: int
    # True: TLS with the PEM blobs below; False: plaintext (they are None).
    tls: bool
    # PEM roots to trust; None: gRPC's default roots.
    root_certificates: Optional[bytes]
    # PEM client certificate chain for mutual TLS; None: no client certificate.
    certificate_chain: Optional[bytes]
    # PEM private key of certificate_chain; None exactly when it is None.
    private_key: Optional[bytes]
    # Name to verify instead of the authority's host; "" for none.
    server_name: str
    # "" for none.
    token: str


def resolve(options: Options, environ: Mapping[str, str]) -> Settings:
    """Checks `options`, applies defaults and, with TLS, `environ` (e.g.
    os.environ); reads the PEM files. Raises ValueError for options that
    break a rule and OSError naming the option for a file it cannot read."""
    target, authority = _channel_target(options)
    if options.timeout_s is not None and not (math.isfinite(options.timeout_s)
                                              and options.timeout_s > 0):
        raise ValueError(f"timeout_s must be finite and > 0, or None, not {options.timeout_s}")
    if isinstance(options.max_attempts, bool) or not isinstance(options.max_attempts, int) \
            or options.max_attempts < 1:
        raise ValueError(f"max_attempts must be an int >= 1, not {options.max_attempts!r}")
    if not options.max_receive_message_bytes > 0:
        raise ValueError("max_receive_message_bytes must be > 0, not "
                         f"{options.max_receive_message_bytes}")
    options.backoff.validate()
    security = _security(options, environ)
    return Settings(target=target, authority=authority, timeout_s=options.timeout_s,
                    max_attempts=options.max_attempts, backoff=options.backoff,
                    max_receive_message_bytes=options.max_receive_message_bytes, **security)


def _channel_target(options: Options) -> Tuple[str, str]:
    """The channel's target and, for address lists, its authority."""
    if isinstance(options.addresses, str):
        raise ValueError("addresses is a list of 'host:port' strings, not one string")
    if options.target and options.addresses:
        raise ValueError("set target or addresses, not both")
    if options.addresses:
        return _address_list(list(options.addresses), "addresses")
    target = options.target or DEFAULT_TARGET
    for scheme in ("ipv4:", "ipv6:"):
        if target.startswith(scheme):
            # gRPC reads the list itself; the authority is its first address.
            first = target[len(scheme):].lstrip("/").split(",")[0]
            return target, first
    if target.startswith(_SCHEMES) or "," not in target:
        return target, ""
    return _address_list(target.split(","), "target")


def _address_list(addresses, what) -> Tuple[str, str]:
    """An ipv4: or ipv6: URI over IP-literal "host:port" addresses."""
    families = set()
    for i, address in enumerate(addresses):
        host, _, port = address.rpartition(":")
        bracketed = host.startswith("[") and host.endswith("]")
        try:
            ip = ipaddress.ip_address(host[1:-1] if bracketed else host)
        except ValueError:
            raise ValueError(
                f"{what}[{i}] {address!r} is not an IP-literal host:port ('10.0.0.1:50051', "
                "'[::1]:50051'); give a name that needs resolving as target dns:///name:port"
            ) from None
        if not (port.isdigit() and 0 < int(port) < 65536) or (ip.version == 6) != bracketed:
            raise ValueError(f"{what}[{i}] {address!r}: want IPv4 'a.b.c.d:port' or "
                             "IPv6 '[addr]:port'")
        families.add(ip.version)
    if len(families) > 1:
        raise ValueError(f"{what} mixes IPv4 and IPv6 addresses; gRPC takes one family per list")
    scheme = "ipv6:" if families == {6} else "ipv4:"
    return scheme + ",".join(addresses), addresses[0]


def _security(options: Options, environ: Mapping[str, str]) -> dict:
    """The TLS and token fields of Settings."""
    tls_fields = {"ca_file": options.ca_file, "cert_file": options.cert_file,
                  "key_file": options.key_file, "server_name": options.server_name,
                  "token": options.token}
    if options.insecure:
        given = [name for name, value in tls_fields.items() if value]
        if given:
            raise ValueError(f"{', '.join(given)} need TLS, but insecure=True: credentials "
                             "are never sent in plaintext")
        return dict(tls=False, root_certificates=None, certificate_chain=None,
                    private_key=None, server_name="", token="")
    ca_file = options.ca_file or environ.get(ENV_CA_FILE, "")
    cert_file = options.cert_file or environ.get(ENV_CERT_FILE, "")
    key_file = options.key_file or environ.get(ENV_KEY_FILE, "")
    if bool(cert_file) != bool(key_file):
        raise ValueError("a TLS client certificate and its key go together: set both cert_file "
                         f"and key_file (or {ENV_CERT_FILE} and {ENV_KEY_FILE}) or neither")
    return dict(tls=True,
                root_certificates=_read_pem(ca_file, "ca_file", b"CERTIFICATE-----"),
                certificate_chain=_read_pem(cert_file, "cert_file", b"CERTIFICATE-----"),
                private_key=_read_pem(key_file, "key_file", b"PRIVATE KEY-----"),
                server_name=options.server_name,
                token=options.token or environ.get(ENV_TOKEN, ""))


def _read_pem(path, what, marker) -> Optional[bytes]:
    """The file's bytes (None for no path); refuses a file without `marker`,
    which gRPC would only report as a failed handshake."""
    if not path:
        return None
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as error:
        raise OSError(error.errno, f"cannot read {what} {path!r}: {error.strerror}") from error
    if b"-----BEGIN " not in data or marker not in data:
        raise ValueError(f"{what} {path!r} holds no PEM {marker.decode().rstrip('-')}")
    return data
