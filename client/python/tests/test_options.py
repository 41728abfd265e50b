"""resolve(): defaults, targets and address lists, the TLS/token/environment
rules, file checks, and the backoff formula. No server."""

import pytest

from securebert_client import options as opts
from securebert_client.options import Backoff, Options, resolve

NO_ENV = {}


def test_defaults_are_tls_to_the_default_target():
    s = resolve(Options(), NO_ENV)
    assert (s.target, s.authority) == ("127.0.0.1:50051", "")
    assert s.tls and s.root_certificates is None and s.certificate_chain is None
    assert (s.timeout_s, s.max_attempts, s.max_receive_message_bytes) == (30.0, 4, 64 << 20)
    assert s.backoff == Backoff(initial_s=0.05, multiplier=2.0, max_s=2.0, jitter=0.2)
    assert s.token == ""


@pytest.mark.parametrize("target", [
    "10.0.0.1:50051", "dns:///securebert.ns.svc:50051", "dns:securebert:50051",
    "unix:/run/securebert.sock", "localhost:50051"])
def test_single_targets_pass_unchanged(target):
    s = resolve(Options(target=target, insecure=True), NO_ENV)
    assert (s.target, s.authority) == (target, "")


@pytest.mark.parametrize("given, target, authority", [
    (dict(target="127.0.0.1:1,127.0.0.1:2"), "ipv4:127.0.0.1:1,127.0.0.1:2", "127.0.0.1:1"),
    (dict(addresses=["10.0.0.1:1", "10.0.0.2:2"]), "ipv4:10.0.0.1:1,10.0.0.2:2", "10.0.0.1:1"),
    (dict(addresses=("[::1]:1", "[fe80::1]:2")), "ipv6:[::1]:1,[fe80::1]:2", "[::1]:1"),
    (dict(target="[::1]:1,[::1]:2"), "ipv6:[::1]:1,[::1]:2", "[::1]:1"),
    (dict(target="ipv4:10.0.0.9:7,10.0.0.8:7"), "ipv4:10.0.0.9:7,10.0.0.8:7", "10.0.0.9:7"),
    (dict(target="ipv6:[::1]:7"), "ipv6:[::1]:7", "[::1]:7"),
])
def test_address_lists_become_ip_uris_with_the_first_as_authority(given, target, authority):
    s = resolve(Options(insecure=True, **given), NO_ENV)
    assert (s.target, s.authority) == (target, authority)


@pytest.mark.parametrize("given, message", [
    (dict(target="a:1", addresses=["10.0.0.1:1"]), "not both"),
    (dict(addresses="10.0.0.1:1"), "not one string"),
    (dict(target="svc-a:1,svc-b:1"), r"target\[0\] 'svc-a:1' is not an IP-literal.*dns:///"),
    (dict(addresses=["10.0.0.1:1", ""]), r"addresses\[1\] ''"),
    (dict(addresses=["10.0.0.1"]), r"addresses\[0\] '10.0.0.1' is not an IP-literal"),
    (dict(addresses=["10.0.0.1:http"]), "want IPv4"),
    (dict(addresses=["10.0.0.1:70000"]), "want IPv4"),
    (dict(addresses=["::1:50051"]), "want IPv4"),
    (dict(addresses=["10.0.0.1:1", "[::1]:1"]), "mixes IPv4 and IPv6"),
])
def test_bad_address_lists_are_refused(given, message):
    with pytest.raises(ValueError, match=message):
        resolve(Options(insecure=True, **given), NO_ENV)


@pytest.mark.parametrize("given, message", [
    (dict(timeout_s=0), "timeout_s"), (dict(timeout_s=-1.0), "timeout_s"),
    (dict(timeout_s=float("inf")), "timeout_s"),
    (dict(max_attempts=0), "max_attempts"), (dict(max_attempts=2.0), "max_attempts"),
    (dict(max_attempts=True), "max_attempts"),
    (dict(max_receive_message_bytes=0), "max_receive_message_bytes"),
    (dict(backoff=Backoff(initial_s=0)), "initial_s"),
    (dict(backoff=Backoff(initial_s=1, max_s=0.5)), "max_s"),
    (dict(backoff=Backoff(multiplier=0.5)), "multiplier"),
    (dict(backoff=Backoff(jitter=1.0)), "jitter"), (dict(backoff=Backoff(jitter=-0.1)), "jitter"),
])
def test_out_of_range_settings_are_refused(given, message):
    with pytest.raises(ValueError, match=message):
        resolve(Options(insecure=True, **given), NO_ENV)


def test_no_deadline():
    assert resolve(Options(insecure=True, timeout_s=None), NO_ENV).timeout_s is None


@pytest.mark.parametrize("field", ["ca_file", "cert_file", "key_file", "server_name", "token"])
def test_tls_fields_and_token_with_insecure_are_refused(field):
    with pytest.raises(ValueError, match=f"{field} need TLS, but insecure=True"):
        resolve(Options(insecure=True, **{field: "x"}), NO_ENV)


def test_insecure_does_not_read_the_environment(pki):
    environ = {opts.ENV_CA_FILE: "/nonexistent/ca.pem", opts.ENV_TOKEN: "s3cret",
               opts.ENV_CERT_FILE: str(pki.client_cert)}
    s = resolve(Options(insecure=True), environ)
    assert not s.tls and s.token == "" and s.root_certificates is None


def test_tls_reads_the_environment_for_fields_left_empty(pki):
    environ = {opts.ENV_CA_FILE: str(pki.ca), opts.ENV_CERT_FILE: str(pki.client_cert),
               opts.ENV_KEY_FILE: str(pki.client_key), opts.ENV_TOKEN: "from-env"}
    s = resolve(Options(), environ)
    assert s.root_certificates == pki.read("ca")
    assert s.certificate_chain == pki.read("client_cert")
    assert s.private_key == pki.read("client_key")
    assert s.token == "from-env"
    # Fields that are set win over the environment.
    s = resolve(Options(ca_file=str(pki.other_ca), token="given"), environ)
    assert s.root_certificates == pki.read("other_ca") and s.token == "given"
    assert s.certificate_chain == pki.read("client_cert")


@pytest.mark.parametrize("given, environ", [
    (dict(cert_file="c.pem"), {}), (dict(key_file="k.pem"), {}),
    ({}, {opts.ENV_CERT_FILE: "c.pem"}), (dict(key_file="k.pem"), {opts.ENV_CA_FILE: "ca.pem"}),
])
def test_client_certificate_and_key_go_together(given, environ):
    with pytest.raises(ValueError, match="certificate and its key go together"):
        resolve(Options(**given), environ)


def test_unreadable_and_non_pem_files_are_refused(pki, tmp_path):
    with pytest.raises(OSError, match="cannot read ca_file '/nonexistent/ca.pem'"):
        resolve(Options(ca_file="/nonexistent/ca.pem"), NO_ENV)
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    with pytest.raises(ValueError, match="ca_file .* holds no PEM CERTIFICATE"):
        resolve(Options(ca_file=str(garbage)), NO_ENV)
    # A certificate where the key should be.
    with pytest.raises(ValueError, match="key_file .* holds no PEM PRIVATE KEY"):
        resolve(Options(cert_file=str(pki.client_cert), key_file=str(pki.client_cert)), NO_ENV)


def test_backoff_formula():
    b = Backoff(initial_s=0.05, multiplier=2.0, max_s=0.3, jitter=0.2)
    assert [b.delay_s(r, 0.5) for r in range(5)] == pytest.approx([0.05, 0.1, 0.2, 0.3, 0.3])
    assert b.delay_s(0, 0.0) == pytest.approx(0.04)  # 1 - jitter
    assert b.delay_s(1, 1.0) == pytest.approx(0.12)  # 1 + jitter
    assert Backoff(jitter=0).delay_s(2, 0.9) == pytest.approx(0.2)
