"""`postern auth-check` on saved messages, DNS from a loopback dnsmasq:
SPF of MAIL FROM and HELO, DKIM signatures made by an independent
implementation (dkimpy, rsa-sha256 and ed25519-sha256), DMARC with the
public suffix list, and the Authentication-Results field. Written as the
attacker would: a stranger at 127.0.0.66 forging From: a bank that
publishes p=reject, a signature broken in transit, a forged
Authentication-Results field. Only loopback."""
import base64
import os
import re
import shutil
import tempfile
import unittest

from harness import PosternTestCase, free_port, run_postern
from outbound_peers import Dnsmasq, DNSMASQ

try:
    import dkim
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
except ImportError:        # python3-dkim (make deps) or not Debian's python3
    dkim = None

EX_OK, EX_USAGE = 0, 64


def rsa_key():
    k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = k.private_bytes(serialization.Encoding.PEM,
                          serialization.PrivateFormat.TraditionalOpenSSL,
                          serialization.NoEncryption())
    pub = k.public_key().public_bytes(serialization.Encoding.DER,
                                      serialization.PublicFormat.SubjectPublicKeyInfo)
    return pem, "v=DKIM1; k=rsa; p=" + base64.b64encode(pub).decode()


def ed_key():
    k = ed25519.Ed25519PrivateKey.generate()
    raw = k.private_bytes(serialization.Encoding.Raw,
                          serialization.PrivateFormat.Raw,
                          serialization.NoEncryption())
    pub = k.public_key().public_bytes(serialization.Encoding.Raw,
                                      serialization.PublicFormat.Raw)
    return base64.b64encode(raw), "v=DKIM1; k=ed25519; p=" + base64.b64encode(pub).decode()


def split_txt(s):
    """A TXT record's value in dnsmasq's syntax: strings of at most 255."""
    return ",".join(s[i:i + 250] for i in range(0, len(s), 250))


MSG = (b"From: Pay Desk <pay@%s>\r\n"
       b"To: alice@mydomain.test\r\n"
       b"Subject: invoice\r\n"
       b"Date: Thu, 03 Dec 2026 12:00:00 +0000\r\n"
       b"Message-ID: <inv-1@%s>\r\n"
       b"\r\n"
       b"Please pay.\r\n")


@unittest.skipUnless(os.path.exists(DNSMASQ), "dnsmasq not installed (make deps)")
@unittest.skipUnless(dkim is not None, "python3-dkim not installed (make deps)")
class AuthCheck(PosternTestCase):

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="postern-authcheck-")
        cls.rsa_pem, rsa_rec = rsa_key()
        cls.ed_raw, ed_rec = ed_key()
        cls.conf = os.path.join(cls.dir, "postern.conf")
        cls.write_conf("127.0.0.1:1")
        # Our own key, made by postern, published for selector "ours";
        # selector "stale" publishes someone else's key.
        r = run_postern(["dkim", "keygen", "-c", cls.conf, "good.example", "ours"])
        if r.returncode != 0:
            raise RuntimeError(r.stderr)
        ours = "".join(re.findall(r'"([^"]*)"', r.stdout))
        cls.dns = Dnsmasq([
            "--txt-record=ours._domainkey.good.example,%s" % split_txt(ours),
            "--txt-record=stale._domainkey.bank.example,%s" % split_txt(rsa_rec),
            "--local=/bank.example/", "--local=/good.example/",
            "--local=/mydomain.test/",
            # The bank: only its own server may send, p=reject.
            "--txt-record=bank.example,v=spf1 ip4:192.0.2.1 -all",
            "--txt-record=_dmarc.bank.example,v=DMARC1; p=reject; adkim=s",
            "--txt-record=rsa._domainkey.bank.example,%s" % split_txt(rsa_rec),
            # A good sender: 127.0.0.2 is its server, signs with both keys.
            "--txt-record=good.example,v=spf1 ip4:127.0.0.2 -all",
            "--txt-record=_dmarc.good.example,v=DMARC1; p=quarantine",
            "--txt-record=rsa._domainkey.good.example,%s" % split_txt(rsa_rec),
            "--txt-record=ed._domainkey.good.example,%s" % ed_rec,
            "--txt-record=helo.good.example,v=spf1 a -all",
            "--host-record=helo.good.example,127.0.0.2",
        ]).start()
        cls.write_conf(cls.dns.server)

    @classmethod
    def write_conf(cls, dns):
        with open(cls.conf, "w") as f:
            f.write("hostname = mx.mydomain.test\n"
                    "auth_serv_id = mx.mydomain.test\n"
                    "local_domains = mydomain.test\n"
                    "users = %s/users\n"
                    "spool = %s/spool\n"
                    "listen_smtp = 127.0.0.1:%d\n"
                    "postmaster = alice\n"
                    "dkim_sign good.example = ours:keys/ours.key\n"
                    "dkim_sign bank.example = stale:keys/ours.key\n"
                    "dkim_sign mydomain.test = gone:keys/ours.key\n"
                    "dns_servers = %s\n" % (cls.dir, cls.dir,
                                            free_port("127.0.0.1"), dns))

    @classmethod
    def tearDownClass(cls):
        cls.dns.stop()
        shutil.rmtree(cls.dir, True)

    def check(self, msg, client, mail_from, helo=None):
        path = os.path.join(self.dir, "msg.eml")
        with open(path, "wb") as f:
            f.write(msg)
        args = ["auth-check", "-c", self.conf, "--client", client,
                "--mail-from", mail_from]
        if helo:
            args += ["--helo", helo]
        r = run_postern(args + [path])
        self.assertEqual(r.returncode, EX_OK, r.stderr)
        return r.stdout

    def sign(self, msg, domain, selector, key, algo):
        sig = dkim.sign(msg, selector.encode(), domain.encode(), key,
                        signature_algorithm=algo,
                        include_headers=[b"From", b"To", b"Subject", b"Date"])
        return sig + msg

    def field(self, out):
        m = re.search(r"(?ms)^Authentication-Results: (.*)", out)
        self.assertIsNotNone(m, out)
        return re.sub(r"\r?\n[ \t]+", " ", m.group(1)).strip()

    def test_forged_bank_fails_dmarc_with_reject(self):
        out = self.check(MSG % (b"bank.example", b"bank.example"),
                         "127.0.0.66", "pay@bank.example", "attacker.invalid")
        self.assertRegex(out, r"(?m)^spf: fail ")
        self.assertRegex(out, r"(?m)^dkim: none")
        self.assertRegex(out, r"(?m)^dmarc: fail \(p=reject, policy to apply: reject\)"
                              r" header\.from=bank\.example")
        ar = self.field(out)
        self.assertTrue(ar.startswith("mx.mydomain.test;"), ar)
        self.assertIn("spf=fail smtp.mailfrom=pay@bank.example", ar)
        self.assertIn("dmarc=fail (p=reject) header.from=bank.example", ar)

    def test_forged_bank_with_own_envelope_still_fails(self):
        # The attacker passes SPF for its own envelope domain: DMARC wants
        # alignment with From:, so it still fails.
        out = self.check(MSG % (b"bank.example", b"bank.example"),
                         "127.0.0.2", "x@good.example")
        self.assertRegex(out, r"(?m)^spf: pass ")
        self.assertRegex(out, r"(?m)^dmarc: fail \(p=reject")

    def test_dkimpy_rsa_and_ed25519_verify(self):
        msg = MSG % (b"good.example", b"good.example")
        signed = self.sign(msg, "good.example", "rsa", self.rsa_pem, b"rsa-sha256")
        signed = self.sign(signed, "good.example", "ed", self.ed_raw, b"ed25519-sha256")
        out = self.check(signed, "127.0.0.2", "pay@good.example", "helo.good.example")
        self.assertRegex(out, r"(?m)^spf: pass \(mailfrom=pay@good\.example, "
                              r"mechanism ip4:127\.0\.0\.2\)")
        self.assertRegex(out, r"(?m)^spf-helo: pass \(helo=helo\.good\.example\)")
        self.assertRegex(out, r"(?m)^dkim: pass d=good\.example s=rsa")
        self.assertRegex(out, r"(?m)^dkim: pass d=good\.example s=ed")
        self.assertRegex(out, r"(?m)^dmarc: pass ")
        ar = self.field(out)
        self.assertIn("dkim=pass header.d=good.example header.s=rsa", ar)
        self.assertIn("dkim=pass header.d=good.example header.s=ed", ar)
        self.assertIn("dmarc=pass (p=quarantine) header.from=good.example", ar)

    def test_dkim_alone_passes_dmarc_from_a_stranger_address(self):
        # Forwarded mail: SPF fails at the forwarder's address, the
        # aligned signature carries DMARC.
        msg = MSG % (b"bank.example", b"bank.example")
        signed = self.sign(msg, "bank.example", "rsa", self.rsa_pem, b"rsa-sha256")
        out = self.check(signed, "127.0.0.77", "pay@bank.example")
        self.assertRegex(out, r"(?m)^spf: fail ")
        self.assertRegex(out, r"(?m)^dkim: pass d=bank\.example")
        self.assertRegex(out, r"(?m)^dmarc: pass ")

    def test_body_changed_in_transit_fails(self):
        msg = MSG % (b"good.example", b"good.example")
        signed = self.sign(msg, "good.example", "rsa", self.rsa_pem, b"rsa-sha256")
        tampered = signed.replace(b"Please pay.", b"Please pay me.")
        out = self.check(tampered, "127.0.0.77", "pay@good.example")
        self.assertRegex(out, r"(?m)^dkim: fail d=good\.example s=rsa")
        self.assertRegex(out, r"(?m)^dmarc: fail \(p=quarantine")

    def test_key_not_published_is_permerror(self):
        msg = MSG % (b"good.example", b"good.example")
        signed = self.sign(msg, "good.example", "gone", self.rsa_pem, b"rsa-sha256")
        out = self.check(signed, "127.0.0.2", "pay@good.example")
        self.assertRegex(out, r"(?m)^dkim: permerror d=good\.example s=gone")

    def test_lf_only_file_is_read_as_crlf(self):
        msg = MSG % (b"good.example", b"good.example")
        signed = self.sign(msg, "good.example", "rsa", self.rsa_pem, b"rsa-sha256")
        out = self.check(signed.replace(b"\r\n", b"\n"), "127.0.0.2", "pay@good.example")
        self.assertRegex(out, r"(?m)^dkim: pass d=good\.example s=rsa")

    def test_dkim_check_published_key(self):
        r = run_postern(["dkim", "check", "-c", self.conf, "good.example"])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("ours._domainkey.good.example: match", r.stdout)
        # Someone else's key at the selector: not ours, and what to publish.
        r = run_postern(["dkim", "check", "-c", self.conf, "bank.example"])
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("the published key is not ours", r.stdout)
        self.assertRegex(r.stdout, r'stale\._domainkey\.bank\.example\. IN TXT')
        # Nothing published.
        r = run_postern(["dkim", "check", "-c", self.conf, "mydomain.test"])
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("no record", r.stdout)
        # A domain without a dkim_sign line.
        r = run_postern(["dkim", "check", "-c", self.conf, "other.example"])
        self.assertEqual(r.returncode, 1)

    def test_usage(self):
        r = run_postern(["auth-check", "-c", self.conf, "--client", "127.0.0.2"])
        self.assertEqual(r.returncode, EX_USAGE)
        r = run_postern(["auth-check", "-c", self.conf, "--client", "not-an-ip",
                         "--mail-from", "a@b.example", "/dev/null"])
        self.assertEqual(r.returncode, EX_USAGE)
