"""TLS helpers for the integration tests: a self-signed certificate made
with the openssl command line, and client contexts that accept it."""
import os
import ssl
import subprocess


def make_cert(directory, cn="mx.mydomain.test", name="server"):
    """Write NAME.key and NAME.crt (EC P-256, self-signed) into directory;
    returns (cert_path, key_path)."""
    key = os.path.join(directory, name + ".key")
    crt = os.path.join(directory, name + ".crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                    "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-days", "30", "-subj", "/CN=" + cn,
                    "-keyout", key, "-out", crt],
                   check=True, capture_output=True)
    return crt, key


def client_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def peer_cn(sslsock):
    """The CN of the certificate the server presented."""
    der = sslsock.getpeercert(binary_form=True)
    r = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout",
                        "-subject"], input=der, capture_output=True, check=True)
    return r.stdout.decode().strip().rsplit("=", 1)[-1].strip()
