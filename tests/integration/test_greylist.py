"""Greylisting in smtpd (greylist = yes, greylist_delay = 2): a stranger's
first attempt is told 451 4.7.1, a retry before the delay too, a retry
after it is accepted, and the message reaches the Maildir only then; the
triplet is remembered (across a restart, in spool/greylist/); clients in
local_networks and relay_rules relay clients are never delayed."""
import os
import smtplib
import time
import unittest

from harness import PosternTestCase, DOMAIN

DELAY = 2


class Greylisting(PosternTestCase):

    def srv(self, **kw):
        return self.server(extra=["greylist = yes",
                                  "greylist_delay = %d" % DELAY,
                                  "verify_incoming = no"], **kw)

    def attempt(self, srv, body, source="127.0.0.2", sender="s@client.test"):
        """One delivery attempt: the RCPT reply code (250 when sent)."""
        s = srv.smtp(source=source)
        try:
            s.sendmail(sender, ["alice@" + DOMAIN],
                       b"Subject: grey\r\n\r\n" + body + b"\r\n")
            return 250
        except smtplib.SMTPRecipientsRefused as e:
            code, text = e.recipients["alice@" + DOMAIN]
            self.assertEqual(code, 451, text)
            self.assertIn(b"4.7.1 Greylisted, please try again later", text)
            return code
        finally:
            s.quit()

    def test_first_refused_retry_after_delay_accepted(self):
        srv = self.srv()
        t0 = time.time()
        self.assertEqual(self.attempt(srv, b"first try"), 451)
        # At once again: still too early.
        self.assertEqual(self.attempt(srv, b"first try"), 451)
        self.assertLess(time.time() - t0, DELAY - 0.5,
                        "the early retry came too late to prove anything")
        self.assertEqual(srv.mails("alice"), {})
        deadline = t0 + DELAY + 10
        while True:
            if self.attempt(srv, b"first try") == 250:
                break
            self.assertEqual(srv.mails("alice"), {})
            self.assertLess(time.time(), deadline, "never accepted")
            time.sleep(0.2)
        # The delay is counted in whole seconds from the first sight.
        self.assertGreaterEqual(time.time() - t0, DELAY - 1)
        got = srv.wait_mails("alice", 1, match=b"first try")
        self.assertEqual(len(got), 1)
        # Remembered: the next message of the triplet passes at once.
        self.assertEqual(self.attempt(srv, b"second message"), 250)
        self.assertEqual(len(srv.wait_mails("alice", 2)), 2)
        self.assertTrue(srv.wait_log(r'decision=reject rule="greylist"'))
        self.assertTrue(srv.wait_log(r"greylist new client=\[127\.0\.0\.2\]"))
        # Another sender from the same client is a new triplet.
        self.assertEqual(self.attempt(srv, b"other", sender="o@client.test"), 451)
        # Kept in the spool across a restart.
        srv.stop()
        self.assertTrue(os.path.exists(os.path.join(srv.spool, "greylist",
                                                    "greylist")))
        srv.start()
        self.assertEqual(self.attempt(srv, b"after restart"), 250)
        self.assertEqual(len(srv.wait_mails("alice", 3)), 3)

    def test_exempt_clients_never_delayed(self):
        srv = self.srv(relay_rules='127.0.0.3:allow,RELAYCLIENT=""\n')
        self.assertEqual(self.attempt(srv, b"local", source="127.0.0.1"), 250)
        self.assertEqual(self.attempt(srv, b"relay client", source="127.0.0.3"), 250)
        self.assertEqual(len(srv.wait_mails("alice", 2)), 2)
        self.assertNotIn('rule="greylist"', srv.log())
        self.assertNotIn("greylist new", srv.log())

    def test_off_by_default(self):
        srv = self.server(extra=["verify_incoming = no"])
        self.assertEqual(self.attempt(srv, b"no greylisting"), 250)
        self.assertFalse(os.path.exists(os.path.join(srv.spool, "greylist")))


if __name__ == "__main__":
    unittest.main()
