"""A throw-away PKI for the TLS tests, made with Debian's openssl.

make_pki(directory) writes a CA, a server certificate it signs (for
localhost, 127.0.0.1 and securebert.test), a client certificate it signs,
and a second, unrelated CA; P-256 keys, valid for a day.
"""

import dataclasses
import pathlib
import subprocess

OPENSSL = "/usr/bin/openssl"
# The server certificate's names.
SERVER_NAMES = "DNS:localhost,IP:127.0.0.1,DNS:securebert.test"


@dataclasses.dataclass(frozen=True)
class Pki:
    ca: pathlib.Path  # PEM certificate of the CA that signed server and client
    server_cert: pathlib.Path
    server_key: pathlib.Path
    client_cert: pathlib.Path
    client_key: pathlib.Path
    other_ca: pathlib.Path  # a CA that signed neither

    def read(self, name):
        return getattr(self, name).read_bytes()


def _openssl(*args, cwd):
    subprocess.run([OPENSSL, *args], cwd=cwd, check=True, capture_output=True)


def _new_key_args(key):
    return ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", key]


def _self_signed_ca(name, cwd):
    _openssl("req", "-x509", *_new_key_args(f"{name}.key"), "-out", f"{name}.pem",
             "-days", "1", "-subj", f"/CN={name}",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=cwd)


def _signed(name, extensions, serial, cwd):
    (cwd / f"{name}.ext").write_text(extensions + "\n")
    _openssl("req", "-new", *_new_key_args(f"{name}.key"), "-out", f"{name}.csr",
             "-subj", f"/CN={name}", cwd=cwd)
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-set_serial", str(serial), "-days", "1", "-extfile", f"{name}.ext",
             "-out", f"{name}.pem", cwd=cwd)


def make_pki(directory) -> Pki:
    cwd = pathlib.Path(directory)
    _self_signed_ca("ca", cwd)
    _self_signed_ca("other-ca", cwd)
    _signed("server", f"subjectAltName={SERVER_NAMES}\nextendedKeyUsage=serverAuth", 2, cwd)
    _signed("client", "extendedKeyUsage=clientAuth", 3, cwd)
    return Pki(ca=cwd / "ca.pem", server_cert=cwd / "server.pem", server_key=cwd / "server.key",
               client_cert=cwd / "client.pem", client_key=cwd / "client.key",
               other_ca=cwd / "other-ca.pem")
