"""Issue 9 item 8, as the attack: authenticate in clear, then STARTTLS, and
hope the identity survives into the TLS session (RFC 3207 4.2 says it must
not: nothing learnt before TLS is trusted after it).

The attacker is a stranger (127.0.0.5) on a submission listener that allows
AUTH over plaintext (`auth_over_plaintext = yes`, the only way a clear-text
AUTH can succeed). After STARTTLS the server must ask for AUTH again
(530 5.7.0), and a loopback sink proves that nothing was relayed; a
positive control then authenticates inside TLS and relays one message,
which the sink receives (so the zero before was not a broken sink)."""
import base64
import time
import unittest

from harness import Server, free_port, DOMAIN
from test_relay_audit import Sink
from tlsutil import make_cert, client_context

PASSWORD = "alice-secret"


def plain(user, pw):
    return base64.b64encode(b"\0" + user.encode() + b"\0" + pw.encode()).decode()


class StartTLSForgetsAuth(unittest.TestCase):
    def setUp(self):
        self.srv = Server(extra=[])
        crt, key = make_cert(self.srv.dir)
        self.srv.sub_port = free_port()
        self.srv.extra = ["tls_cert = %s" % crt, "tls_key = %s" % key,
                          "listen_submission = 127.0.0.1:%d" % self.srv.sub_port,
                          "auth_over_plaintext = yes"]
        self.srv.write_config()
        r = self.srv.user("passwd", "alice", PASSWORD)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.sink = Sink(self.srv.sink_port)
        self.addCleanup(self.sink.close)
        self.srv.start()
        self.srv.wait_listening(port=self.srv.sub_port)

    def tearDown(self):
        self.srv.stop()
        self.srv.remove()

    def test_identity_from_clear_text_does_not_survive_starttls(self):
        import smtplib
        s = smtplib.SMTP("127.0.0.1", self.srv.sub_port, local_hostname="evil.test",
                         source_address=("127.0.0.5", 0), timeout=20)
        s.ehlo()
        code, msg = s.docmd("AUTH", "PLAIN " + plain("alice", PASSWORD))
        self.assertEqual(code, 235, msg)         # clear-text AUTH is allowed here
        s.starttls(context=client_context())
        s.ehlo()
        code, msg = s.docmd("MAIL FROM:<alice@%s>" % DOMAIN)
        self.assertEqual(code, 530, "the clear-text identity survived STARTTLS: %r" % msg)
        self.assertIn(b"5.7.0", msg)
        code, msg = s.docmd("RCPT TO:<victim@example.net>")
        self.assertEqual(code, 503, msg)          # no transaction was opened
        self.assertTrue(self.srv.wait_log(r"authentication forgotten user=\"alice\""))

        # positive control: AUTH again inside TLS, then relaying works
        code, msg = s.docmd("AUTH", "PLAIN " + plain("alice", PASSWORD))
        self.assertEqual(code, 235, msg)
        s.sendmail("alice@" + DOMAIN, ["friend@example.net"],
                   b"Subject: control\r\n\r\nafter AUTH inside TLS\r\n")
        s.quit()
        deadline = time.time() + 20
        while time.time() < deadline and not self.sink.messages:
            time.sleep(0.1)
        self.assertEqual(len(self.sink.messages), 1,
                         "positive control never reached the sink")
        self.assertIn(b"after AUTH inside TLS", self.sink.messages[0])
        self.assertEqual(self.sink.connections, 1, "something else left the server")


if __name__ == "__main__":
    unittest.main()
