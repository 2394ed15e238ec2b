"""DKIM against an independent implementation (Debian's python3-dkim,
dkimpy): what `postern dkim sign` makes dkimpy verifies, for rsa-sha256 and
ed25519-sha256; what dkimpy signs (both algorithms, relaxed and simple)
`postern dkim verify` accepts, and a tampered copy it refuses. Key records
come from files (postern) and dnsfunc (dkimpy): nothing asks DNS."""
import base64
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import POSTERN

try:
    import dkim
except ImportError:  # pragma: no cover
    dkim = None

MESSAGE = (b"From: Joe SixPack <joe@football.example.com>\r\n"
           b"To: Suzie Q <suzie@shopping.example.net>\r\n"
           b"Subject: Is dinner ready?\r\n"
           b"Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
           b"Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n"
           b"\r\n"
           b"Hi.\r\n"
           b"\r\n"
           b"We lost the game.  Are you hungry yet?\r\n"
           b"\r\n"
           b"Joe.  \r\n"
           b"\r\n\r\n")


def run(args, stdin=b""):
    return subprocess.run([POSTERN] + args, input=stdin, capture_output=True,
                          timeout=60)


def record_of(zone_line):
    """The record text of a zone-file line: its strings, concatenated."""
    return "".join(re.findall(r'"([^"]*)"', zone_line)).encode()


@unittest.skipIf(dkim is None, "python3-dkim (dkimpy) is not installed")
class DkimInterop(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="postern-dkim-")
        self.conf = os.path.join(self.dir, "postern.conf")
        with open(self.conf, "w") as f:
            f.write("local_domains = example.com\nusers = users\n"
                    "spool = spool\nlisten_smtp = 127.0.0.1:2525\n"
                    "hostname = mx.example.com\n"
                    "dkim_sign example.com = rsa1:keys/rsa1.key\n")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def keygen(self, domain, selector, ed=False):
        r = run(["dkim", "keygen", "-c", self.conf, domain, selector]
                + (["--ed25519"] if ed else []))
        self.assertEqual(r.returncode, 0, r.stderr)
        return record_of(r.stdout.decode())

    def postern_sign(self, domain, msg=MESSAGE):
        r = run(["dkim", "sign", "-c", self.conf, domain], msg)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def postern_verify(self, record, msg):
        path = os.path.join(self.dir, "record.txt")
        with open(path, "wb") as f:
            f.write(record + b"\n")
        return run(["dkim", "verify", "--key-record", path], msg)

    def test_keygen_file_and_refusal(self):
        self.keygen("example.com", "rsa1")
        key = os.path.join(self.dir, "keys", "rsa1.key")
        self.assertEqual(os.stat(key).st_mode & 0o777, 0o600)
        before = open(key, "rb").read()
        r = run(["dkim", "keygen", "-c", self.conf, "example.com", "rsa1"])
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"not overwritten", r.stderr)
        self.assertEqual(open(key, "rb").read(), before)
        # No dkim_sign line for the domain: dkim/DOMAIN.SELECTOR.key and
        # the line to add.
        r = run(["dkim", "keygen", "-c", self.conf, "other.example", "s1",
                 "--ed25519"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(os.path.exists(os.path.join(
            self.dir, "dkim", "other.example.s1.key")))
        self.assertIn(b"dkim_sign other.example = s1:", r.stderr)
        self.assertRegex(r.stdout.decode(), r'^s1\._domainkey\.other\.example\. IN TXT \( "v=DKIM1; k=ed25519; p=')
        # check shows the line
        r = run(["check", "-c", self.conf])
        self.assertIn(b"dkim_sign example.com = rsa1:" + key.encode(), r.stdout)

    def test_config_lines_checked(self):
        base = open(self.conf).read()
        for line, what in (("dkim_sign bad_domain! = s:k", "not a domain name"),
                           ("dkim_sign example.org = bad selector:k", "not a selector"),
                           ("dkim_sign example.org = s", "SELECTOR:KEYFILE"),
                           ("dkim_sign example.org = s:", "SELECTOR:KEYFILE"),
                           ("dkim_sign EXAMPLE.com. = s:k", "duplicate dkim_sign")):
            with self.subTest(line=line):
                path = os.path.join(self.dir, "bad.conf")
                with open(path, "w") as f:
                    f.write(base + line + "\n")
                r = run(["check", "-c", path])
                self.assertEqual(r.returncode, 78, r.stdout)
                self.assertRegex(r.stderr.decode(), r"bad\.conf:7: .*" + re.escape(what))
        # relative to the config's directory, absolute kept
        path = os.path.join(self.dir, "good.conf")
        with open(path, "w") as f:
            f.write(base + "dkim_sign Example.ORG = Sel-2.x:/etc/k.pem\n")
        r = run(["check", "-c", path])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"dkim_sign example.com = rsa1:%s/keys/rsa1.key\n"
                      % self.dir.encode(), r.stdout)
        self.assertIn(b"dkim_sign example.org = sel-2.x:/etc/k.pem\n", r.stdout)

    def test_sign_needs_a_key(self):
        r = run(["dkim", "sign", "-c", self.conf, "nokey.example"], MESSAGE)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"no dkim_sign line", r.stderr)
        r = run(["dkim", "sign", "-c", self.conf, "example.com"], MESSAGE)
        self.assertEqual(r.returncode, 78)   # the key file is not there yet
        self.keygen("example.com", "rsa1")
        r = run(["dkim", "sign", "-c", self.conf, "example.com"],
                b"To: x@example.net\r\n\r\nno from\r\n")
        self.assertEqual(r.returncode, 65)
        self.assertIn(b"no From", r.stderr)
        # LF line ends are made CRLF before signing
        lf = self.postern_sign("example.com", MESSAGE.replace(b"\r\n", b"\n"))
        self.assertIn(b"\r\n", lf)
        self.assertNotIn(b"\n\n", lf.replace(b"\r\n", b""))

    def signed_by_postern(self, ed):
        if ed:
            with open(self.conf, "a") as f:
                f.write("dkim_sign ed.example.com = ed1:keys/ed1.key\n")
            rec = self.keygen("ed.example.com", "ed1", ed=True)
            signed = self.postern_sign("ed.example.com")
        else:
            rec = self.keygen("example.com", "rsa1")
            signed = self.postern_sign("example.com")
        return rec, signed

    def test_postern_signs_dkimpy_verifies(self):
        for ed in (False, True):
            with self.subTest(ed25519=ed):
                rec, signed = self.signed_by_postern(ed)
                self.assertTrue(signed.startswith(b"DKIM-Signature: "))
                for line in signed.split(b"\r\n"):
                    self.assertLessEqual(len(line), 78, line)
                self.assertTrue(dkim.verify(
                    signed, dnsfunc=lambda name, timeout=5: rec), signed)
                # and postern itself agrees
                r = self.postern_verify(rec, signed)
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                self.assertIn(b"dkim=pass", r.stdout)
                # a changed Subject fails for both
                bad = signed.replace(b"Is dinner ready?", b"Is lunch ready?")
                self.assertFalse(dkim.verify(
                    bad, dnsfunc=lambda name, timeout=5: rec))
                r = self.postern_verify(rec, bad)
                self.assertEqual(r.returncode, 1)
                self.assertIn(b"dkim=fail", r.stdout)

    def test_oversigned_header_cannot_be_added(self):
        rec, signed = self.signed_by_postern(False)
        # An added Subject (on top, as an attacker would) breaks it.
        bad = signed.replace(b"From: Joe", b"Subject: forged\r\nFrom: Joe", 1)
        r = self.postern_verify(rec, bad)
        self.assertIn(b"dkim=fail", r.stdout)
        self.assertFalse(dkim.verify(bad, dnsfunc=lambda name, timeout=5: rec))

    def dkimpy_keys(self):
        """(rsa private PEM, rsa record, ed25519 private b64, ed record)."""
        rsa_path = os.path.join(self.dir, "rsa.pem")
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                        "rsa_keygen_bits:2048", "-out", rsa_path],
                       check=True, capture_output=True)
        pub = subprocess.run(["openssl", "pkey", "-in", rsa_path, "-pubout",
                              "-outform", "DER"], check=True,
                             capture_output=True).stdout
        rsa_rec = b"v=DKIM1; k=rsa; p=" + base64.b64encode(pub)
        from nacl.signing import SigningKey  # dkimpy's ed25519 needs PyNaCl
        sk = SigningKey.generate()
        ed_priv = base64.b64encode(bytes(sk))
        ed_rec = b"v=DKIM1; k=ed25519; p=" + base64.b64encode(bytes(sk.verify_key))
        return open(rsa_path, "rb").read(), rsa_rec, ed_priv, ed_rec

    def test_dkimpy_signs_postern_verifies(self):
        try:
            rsa_priv, rsa_rec, ed_priv, ed_rec = self.dkimpy_keys()
        except ImportError:
            self.skipTest("PyNaCl missing: dkimpy cannot sign ed25519")
        for alg, priv, rec in ((b"rsa-sha256", rsa_priv, rsa_rec),
                               (b"ed25519-sha256", ed_priv, ed_rec)):
            for canon in ((b"relaxed", b"relaxed"), (b"simple", b"simple"),
                          (b"relaxed", b"simple"), (b"simple", b"relaxed")):
                with self.subTest(alg=alg, canon=canon):
                    sig = dkim.sign(MESSAGE, b"s1", b"football.example.com",
                                    priv, canonicalize=canon,
                                    signature_algorithm=alg,
                                    include_headers=[b"from", b"to",
                                                     b"subject", b"date"])
                    signed = sig + MESSAGE
                    r = self.postern_verify(rec, signed)
                    self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                    self.assertRegex(r.stdout, rb"^dkim=pass d=football\.example\.com s=s1 ")
                    bad = signed.replace(b"We lost", b"We won")
                    r = self.postern_verify(rec, bad)
                    self.assertEqual(r.returncode, 1)
                    self.assertIn(b"dkim=fail", r.stdout)
                    self.assertIn(b"body hash", r.stdout)

    def test_dkimpy_length_tag(self):
        rsa_priv, rsa_rec = self.dkimpy_keys()[:2]
        sig = dkim.sign(MESSAGE, b"s1", b"football.example.com", rsa_priv,
                        length=True, include_headers=[b"from", b"subject"])
        signed = sig + MESSAGE
        r = self.postern_verify(rsa_rec, signed)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertNotIn(b"unsigned", r.stdout)
        # Text appended after l= still verifies, and is reported.
        r = self.postern_verify(rsa_rec, signed + b"Click here!\r\n")
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn(b"unsigned text after l=", r.stdout)
        # A cut body is a failure.
        r = self.postern_verify(rsa_rec, signed[:signed.index(b"Joe.  ")] + b"\r\n")
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"dkim=fail", r.stdout)

    def test_rsa_sha1_fails(self):
        rsa_priv, rsa_rec = self.dkimpy_keys()[:2]
        sig = dkim.sign(MESSAGE, b"s1", b"football.example.com", rsa_priv,
                        signature_algorithm=b"rsa-sha1",
                        include_headers=[b"from"])
        r = self.postern_verify(rsa_rec, sig + MESSAGE)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"dkim=fail", r.stdout)
        self.assertIn(b"rsa-sha1", r.stdout)


if __name__ == "__main__":
    unittest.main()
