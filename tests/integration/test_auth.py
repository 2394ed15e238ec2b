"""SMTP AUTH (RFC 4954) on the submission port (RFC 6409) and implicit TLS
(RFC 8314), with real clients: swaks, msmtp (SCRAM-SHA-256) and smtplib.
What an attacker tries: AUTH before TLS, wrong passwords (throttled),
relaying without AUTH, claiming someone else's address."""
import base64
import os
import shutil
import smtplib
import socket
import subprocess
import time
import unittest

from harness import Server, free_port, DOMAIN
from tlsutil import make_cert, client_context

PASSWORDS = {"alice": "alice-secret", "bob": "bob-secret"}


def auth_server(extra=()):
    srv = Server(extra=[])
    crt, key = make_cert(srv.dir)
    srv.sub_port = free_port()
    srv.smtps_port = free_port()
    srv.extra = ["tls_cert = %s" % crt, "tls_key = %s" % key,
                 "listen_submission = 127.0.0.1:%d" % srv.sub_port,
                 "listen_smtps = 127.0.0.1:%d" % srv.smtps_port] + list(extra)
    srv.write_config()
    for name, pw in PASSWORDS.items():
        r = srv.user("passwd", name, pw, extra_args=["--apop"])
        assert r.returncode == 0, r.stderr
    srv.start()
    srv.wait_listening(port=srv.sub_port)
    srv.wait_listening(port=srv.smtps_port)
    return srv


def swaks(*args):
    return subprocess.run(["swaks", "--timeout", "20"] + list(args),
                          capture_output=True, text=True, timeout=60)


class Auth(unittest.TestCase):
    extra = ()

    def setUp(self):
        self.srv = auth_server(self.extra)
        self.ctx = client_context()

    def tearDown(self):
        self.srv.stop()
        self.srv.remove()

    def submission(self, source="127.0.0.1"):
        s = smtplib.SMTP("127.0.0.1", self.srv.sub_port, local_hostname="c.test",
                         source_address=(source, 0), timeout=20)
        s.ehlo()
        return s

    def test_auth_not_offered_before_tls(self):
        s = self.submission()
        self.assertFalse(s.has_extn("auth"))
        code, msg = s.docmd("AUTH PLAIN AGFsaWNlAGFsaWNlLXNlY3JldA==")
        self.assertEqual(code, 538)
        code, msg = s.docmd("MAIL FROM:<alice@%s>" % DOMAIN)
        self.assertEqual(code, 530)
        self.assertIn(b"5.7.0 Authentication required", msg)
        s.quit()

    def test_smtplib_starttls_login_relays(self):
        s = self.submission(source="127.0.0.5")      # a stranger's address
        s.starttls(context=self.ctx)
        s.ehlo()
        self.assertIn("PLAIN", s.esmtp_features["auth"])
        self.assertIn("SCRAM-SHA-256", s.esmtp_features["auth"])
        s.login("alice", PASSWORDS["alice"])
        s.sendmail("alice@" + DOMAIN, ["friend@example.net"],
                   b"Subject: relay\r\n\r\nvia submission\r\n")
        s.quit()
        self.assertTrue(self.srv.wait_log(r'decision=accept-relay rule="authenticated alice"'))
        self.assertTrue(any(b"rcpt P R - <friend@example.net>" in q
                            for q in self.srv.queue_files().values()))
        self.assertTrue(self.srv.wait_log(r'login ok: client=\[127\.0\.0\.5\] user="alice" mechanism=\S+'))
        # The trace header says the mail came authenticated over TLS.
        q = [v for v in self.srv.queue_files().values() if b"friend@example.net" in v]
        self.assertIn(b"with ESMTPSA id", q[0])

    def test_sender_must_be_the_user(self):
        s = self.submission()
        s.starttls(context=self.ctx)
        s.ehlo()
        s.login("alice", PASSWORDS["alice"])
        code, msg = s.docmd("MAIL FROM:<bob@%s>" % DOMAIN)
        self.assertEqual(code, 553)
        code, msg = s.docmd("MAIL FROM:<alice+list@%s>" % DOMAIN)
        self.assertIn(code, (250, 553))     # only with recipient_delimiter
        s.rset()
        code, _ = s.docmd("MAIL FROM:<ALICE@%s>" % DOMAIN.upper())
        self.assertEqual(code, 250)
        s.quit()

    def test_swaks_tls_auth_mechanisms(self):
        for mech in ("PLAIN", "LOGIN", "CRAM-MD5"):
            r = swaks("--server", "127.0.0.1:%d" % self.srv.sub_port, "--tls",
                      "--auth", mech, "--auth-user", "bob",
                      "--auth-password", PASSWORDS["bob"],
                      "--from", "bob@" + DOMAIN, "--to", "alice@" + DOMAIN,
                      "--header", "Subject: swaks " + mech)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("235 2.7.0 Authentication successful", r.stdout)
        self.assertEqual(len(self.srv.wait_mails("alice", 3)), 3)

    def test_smtps_implicit_tls_auth(self):
        r = swaks("--server", "127.0.0.1:%d" % self.srv.smtps_port, "--tlsc",
                  "--auth", "PLAIN", "--auth-user", "alice",
                  "--auth-password", PASSWORDS["alice"],
                  "--from", "alice@" + DOMAIN, "--to", "someone@example.net")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("250 2.0.0 Ok: queued as", r.stdout)

    @unittest.skipUnless(shutil.which("msmtp"), "msmtp not installed")
    def test_msmtp_scram_sha_256(self):
        rc = os.path.join(self.srv.dir, "msmtprc")
        with open(rc, "w") as f:
            f.write("account t\nhost 127.0.0.1\nport %d\ntls on\ntls_starttls on\n"
                    "tls_certcheck off\nauth scram-sha-256\nuser alice\n"
                    "password %s\nfrom alice@%s\n"
                    % (self.srv.sub_port, PASSWORDS["alice"], DOMAIN))
        os.chmod(rc, 0o600)
        r = subprocess.run(["msmtp", "-C", rc, "-a", "t", "bob@" + DOMAIN],
                           input=b"Subject: scram\n\nsalted\n", capture_output=True,
                           timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertTrue(self.srv.wait_log(r'login ok: client=\S+ user="alice" mechanism=SCRAM-SHA-256'))
        self.assertTrue(self.srv.wait_mails("bob", 1, match=b"salted"))
        # A wrong password fails SCRAM too.
        with open(rc, "a") as f:
            f.write("account w : t\npassword wrong\n")
        r = subprocess.run(["msmtp", "-C", rc, "-a", "w", "bob@" + DOMAIN],
                           input=b"Subject: x\n\nx\n", capture_output=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)

    def test_wrong_password_is_throttled(self):
        s = self.submission(source="127.0.0.7")
        s.starttls(context=self.ctx)
        s.ehlo()
        times = []
        bad = base64.b64encode(b"\0alice\0guess").decode()
        for _ in range(3):
            t = time.time()
            # One AUTH per try (smtplib.login would try every mechanism).
            code, _ = s.docmd("AUTH PLAIN " + bad)
            self.assertEqual(code, 535)
            times.append(time.time() - t)
        s.quit()
        self.assertGreaterEqual(times[0], 0.9)
        self.assertGreaterEqual(times[2], 3.5)
        self.assertTrue(self.srv.wait_log(r'login failed: client=\[127\.0\.0\.7\] user="alice" mechanism=\w+ reason="wrong password" failures=3'))
        # A correct password from an address without failures of its own
        # is never slowed down by the user's failures elsewhere.
        s = self.submission(source="127.0.0.8")
        s.starttls(context=self.ctx)
        s.ehlo()
        t = time.time()
        s.login("alice", PASSWORDS["alice"])
        self.assertLess(time.time() - t, 0.9)
        s.quit()

    def test_relay_without_auth_refused_and_nothing_queued(self):
        s = smtplib.SMTP("127.0.0.1", self.srv.port, source_address=("127.0.0.5", 0),
                         timeout=10)
        s.ehlo()
        s.starttls(context=self.ctx)
        s.ehlo()
        self.assertFalse(s.has_extn("auth"), "no AUTH on the MX port")
        s.mail("alice@" + DOMAIN)
        self.assertEqual(s.rcpt("victim@example.net")[0], 554)
        s.quit()
        self.assertEqual([q for q, v in self.srv.queue_files().items()
                          if b"victim@example.net" in v], [])


if __name__ == "__main__":
    unittest.main()
