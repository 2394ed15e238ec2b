"""The relay policy seen from real clients bound to different 127.0.0.X.

127.0.0.1 is in local_networks; 127.0.0.2 and up are strangers.
"""
import re
import shutil
import subprocess
import time
import unittest

from harness import PosternTestCase, have_ipv6_loopback, RawClient

LOCAL = "127.0.0.1"
STRANGER = "127.0.0.2"
RULES = ('# test rules\n'
         '127.0.0.9:allow,RELAYCLIENT=""\n'
         '127.0.0.66:deny\n'
         '127.0.0.70:allow\n'
         '127.0.1.:allow,RELAY=""\n'
         '127.0.2.10-20:allow,RELAYCLIENT=""\n')


class Relay(PosternTestCase):

    def setUp(self):
        self.srv = self.server(relay_rules=RULES)

    def transaction(self, source, rcpt, sender="someone@example.org", tok=None):
        """MAIL/RCPT (and DATA if RCPT was accepted). Returns
        (rcpt_code, rcpt_text, queue_id or None)."""
        c = self.srv.smtp(source)
        try:
            code, text = c.docmd("MAIL FROM:<%s>" % sender)
            self.assertEqual(code, 250, text)
            rcode, rtext = c.docmd("RCPT TO:<%s>" % rcpt)
            qid = None
            if rcode == 250:
                tok = tok or "tok-%s" % time.time()
                dcode, dtext = c.data(b"Subject: " + tok.encode() + b"\r\n\r\nbody\r\n")
                self.assertEqual(dcode, 250, dtext)
                m = re.search(rb"queued as ([0-9A-F]{19})", dtext)
                self.assertTrue(m, dtext)
                qid = m.group(1).decode()
            return rcode, rtext, qid
        finally:
            c.quit()

    def assertRelayDenied(self, code, text):
        self.assertEqual(code, 554, text)
        self.assertEqual(text, b"5.7.1 Relay access denied")

    # --- the four-case table ------------------------------------------
    def test_local_to_local(self):
        code, text, qid = self.transaction(LOCAL, "alice@mydomain.test", tok="tok-ll")
        self.assertEqual(code, 250, text)
        self.assertEqual(len(self.srv.wait_mails("alice", 1, match=b"tok-ll")), 1)

    def test_external_to_local(self):
        code, text, qid = self.transaction(STRANGER, "alice@mydomain.test", tok="tok-el")
        self.assertEqual(code, 250, text)
        got = self.srv.wait_mails("alice", 1, match=b"tok-el")
        self.assertEqual(len(got), 1)
        self.assertIn(b"[127.0.0.2]", got[0])      # Received: shows the client

    def test_local_to_external_queued_deferred(self):
        code, text, qid = self.transaction(LOCAL, "bob@example.net", tok="tok-le")
        self.assertEqual(code, 250, text)
        self.assertTrue(self.srv.wait_log(r"id=%s to=<bob@example\.net>.*status=deferred" % qid, 5),
                        "no status=deferred log line for %s" % qid)
        self.assertIn(qid, self.srv.queue_ids())
        data = self.srv.queue_file(qid)
        env, content = data.split(b"\n\n", 1)
        self.assertTrue(env.startswith(b"POSTERN-QUEUE 1\n"), env[:40])
        self.assertIn(b"\nrcpt P R - <bob@example.net>", env)
        self.assertIn(b"\nclient 127.0.0.1", env)
        self.assertIn(b"\nfrom <someone@example.org>", env)
        self.assertIn(b"\nid " + qid.encode(), env)
        self.assertIn(b"\nauth -", env)
        self.assertIn(b"\nhelo client.test", env)
        self.assertRegex(env, rb"\ntime \d{10}")
        lines = env.split(b"\n")
        self.assertEqual(lines[1], b"id " + qid.encode(), "id is not the first envelope line")
        self.assertTrue(content.startswith(b"Received: "), content[:40])
        self.assertTrue(content.endswith(b"Subject: tok-le\r\n\r\nbody\r\n"), content[-60:])
        # still there a moment later: nothing delivers remote mail yet
        time.sleep(0.5)
        self.assertIn(qid, self.srv.queue_ids())

    def test_external_to_external_denied(self):
        code, text, qid = self.transaction(STRANGER, "bob@example.net")
        self.assertRelayDenied(code, text)
        self.assertIsNone(qid)
        self.assertTrue(self.srv.wait_log(r"to=<bob@example\.net>.*decision=reject", 2),
                        "no reject log line with decision=reject")
        self.assertQueueEmpty(self.srv)

    def test_mixed_recipients(self):
        # a stranger: the local recipient is accepted, the remote one refused,
        # the message goes only to the local one
        c = self.srv.smtp(STRANGER)
        try:
            c.mail("x@example.org")
            self.assertRelayDenied(*c.rcpt("bob@example.net"))
            self.assertEqual(c.rcpt("alice@mydomain.test")[0], 250)
            self.assertEqual(c.data(b"Subject: tok-mixed\r\n\r\nx\r\n")[0], 250)
        finally:
            c.quit()
        self.assertEqual(len(self.srv.wait_mails("alice", 1, match=b"tok-mixed")), 1)
        self.assertEqual(self.srv.wait_queue_empty(5), [])

    def test_sender_does_not_matter(self):
        for sender in ("x@mydomain.test", "alice@mydomain.test", "postmaster@mydomain.test",
                       "", "x@[127.0.0.1]"):
            code, text, qid = self.transaction(STRANGER, "bob@example.net", sender=sender)
            self.assertRelayDenied(code, text)
        self.assertQueueEmpty(self.srv)

    def test_other_loopback_addresses_are_strangers(self):
        for src in ("127.0.0.3", "127.0.0.100", "127.1.2.3", "127.0.0.70"):
            code, text, _ = self.transaction(src, "bob@example.net")
            self.assertRelayDenied(code, text)
        self.assertQueueEmpty(self.srv)

    # --- routing tricks ---------------------------------------------------
    TRICKS = [
        "user%example.net@mydomain.test",
        "example.net!user@mydomain.test",
        "@mydomain.test:user@example.net",
        "@mydomain.test,@mx.mydomain.test:user@example.net",
        '"user@example.net"@mydomain.test',
        '"user%example.net"@mydomain.test',
        '"example.net!user"@mydomain.test',
        "user@example.net.",
        "user@EXAMPLE.NET",
        "user@Example.Net.",
        "user@evilmydomain.test",
        "user@mydomain.test.example.net",
        "user@sub.mydomain.test",
        "user@[127.0.0.2]",
        "user@[IPv6:::1]",
        "user@[10.0.0.1]",
        "user@example.net@mydomain.test",
        "alice@mydomain.test@example.net",
        "user@example.net\\@mydomain.test",
    ]

    def test_routing_tricks_from_stranger(self):
        c = self.srv.smtp(STRANGER)
        accepted = []
        try:
            for addr in self.TRICKS:
                code, text = c.docmd("MAIL FROM:<x@example.org>")
                self.assertEqual(code, 250, text)
                code, text = c.docmd("RCPT TO:<%s>" % addr)
                if code // 100 != 5:
                    accepted.append((addr, code, text))
                c.rset()
        finally:
            c.quit()
        self.assertEqual(accepted, [], "routing tricks not refused with 5xx")
        self.assertQueueEmpty(self.srv)

    def test_normalised_external_gets_relay_denied(self):
        # trailing dot and case differences are normalised: plain relay denial
        c = self.srv.smtp(STRANGER)
        try:
            for addr in ("user@example.net.", "user@EXAMPLE.NET", "user@evilmydomain.test"):
                c.mail("x@example.org")
                self.assertRelayDenied(*c.docmd("RCPT TO:<%s>" % addr))
                c.rset()
        finally:
            c.quit()

    def test_trick_addresses_attempt_data(self):
        # even if a trick were accepted, nothing may be queued for example.net
        for addr in self.TRICKS:
            code, text, qid = self.transaction(STRANGER, addr)
            self.assertNotEqual(code, 250, "RCPT TO:<%s> accepted: %r" % (addr, text))
        self.assertNoRemoteQueued(self.srv)
        self.assertQueueEmpty(self.srv)

    def test_local_domain_normalised(self):
        # case and a trailing dot on our own domain still reach alice
        for addr, tok in (("alice@MYDOMAIN.TEST", "tok-case"), ("alice@mydomain.test.", "tok-dot"),
                          ("ALICE@mydomain.test", "tok-ucuser")):
            code, text, _ = self.transaction(STRANGER, addr, tok=tok)
            self.assertEqual(code, 250, "%s: %r" % (addr, text))
            self.assertEqual(len(self.srv.wait_mails("alice", 1, match=tok.encode())), 1, addr)

    # --- relay_rules --------------------------------------------------------
    def test_rules_relayclient_may_relay(self):
        for src in ("127.0.0.9", "127.0.1.5", "127.0.2.10", "127.0.2.20"):
            code, text, qid = self.transaction(src, "bob@example.net")
            self.assertEqual(code, 250, "%s: %r" % (src, text))
            self.assertIn(qid, self.srv.queue_ids())

    def test_rules_range_edges_and_plain_allow(self):
        for src in ("127.0.2.9", "127.0.2.21", "127.0.0.70"):
            code, text, qid = self.transaction(src, "bob@example.net")
            self.assertRelayDenied(code, text)
        self.assertQueueEmpty(self.srv)

    def test_rules_deny(self):
        r = RawClient(self.srv.host, self.srv.port, source="127.0.0.66")
        try:
            code, text = r.reply()
            self.assertEqual(code, 554, text)
            self.assertTrue(r.wait_closed(3), "connection not closed after 554 greeting")
        finally:
            r.close()
        # a denied client can be turned away even if it talks at once
        r = RawClient(self.srv.host, self.srv.port, source="127.0.0.66")
        try:
            try:
                r.send(b"EHLO x\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<alice@mydomain.test>\r\n")
            except OSError:
                pass
            replies = r.replies_for(2)
            self.assertTrue(replies, "no reply at all")
            self.assertEqual(replies[0][0], 554)
            self.assertFalse([x for x in replies if x[0] == 250], replies)
        finally:
            r.close()

    # --- swaks --------------------------------------------------------------
    @unittest.skipUnless(shutil.which("swaks"), "swaks not installed")
    def test_swaks(self):
        base = ["swaks", "--server", self.srv.host, "--port", str(self.srv.port),
                "--helo", "swaks.test", "--timeout", "10"]
        # stranger to external: refused at RCPT
        r = subprocess.run(base + ["--local-interface", STRANGER, "--to", "bob@example.net",
                                   "--from", "x@mydomain.test"],
                           capture_output=True, text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn("554 5.7.1 Relay access denied", r.stdout)
        # stranger to local: delivered
        r = subprocess.run(base + ["--local-interface", STRANGER, "--to", "alice@mydomain.test",
                                   "--from", "x@example.org", "--header", "Subject: tok-swaks"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"250 2\.0\.0 Ok: queued as [0-9A-F]{19}")
        self.assertEqual(len(self.srv.wait_mails("alice", 1, match=b"tok-swaks")), 1)
        # local to external: queued
        r = subprocess.run(base + ["--local-interface", LOCAL, "--to", "bob@example.net",
                                   "--from", "alice@mydomain.test"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        m = re.search(r"queued as ([0-9A-F]{19})", r.stdout)
        self.assertTrue(m, r.stdout)
        self.assertIn(m.group(1), self.srv.queue_ids())
        # pipelining through swaks
        r = subprocess.run(base + ["--local-interface", STRANGER, "--to", "alice@mydomain.test",
                                   "--from", "x@example.org", "--pipeline",
                                   "--header", "Subject: tok-swaks-pipe"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(len(self.srv.wait_mails("alice", 1, match=b"tok-swaks-pipe")), 1)


@unittest.skipUnless(have_ipv6_loopback(), "no IPv6 loopback")
class RelayIPv6(PosternTestCase):
    """::1 is in local_networks; a v6 listener and a v4 one on the same server."""

    def test_ipv6_local_may_relay(self):
        from harness import free_port
        p6 = free_port("::1")
        srv = self.server(start=False)
        srv.listen = "127.0.0.1:%d, [::1]:%d" % (srv.port, p6)
        srv.fixed_port = True
        srv.write_config()
        srv.start()
        srv.wait_listening(host="::1", port=p6)
        import smtplib
        c = smtplib.SMTP("::1", p6, local_hostname="v6.test", timeout=10)
        try:
            c.ehlo()
            c.mail("x@example.org")
            code, text = c.rcpt("bob@example.net")
            self.assertEqual(code, 250, text)
            self.assertEqual(c.data(b"Subject: v6\r\n\r\nx\r\n")[0], 250)
        finally:
            c.quit()

    def test_ipv6_not_local(self):
        from harness import free_port
        p6 = free_port("::1")
        srv = self.server(start=False, local_networks="127.0.0.1/32")
        srv.listen = "[::1]:%d" % p6
        srv.fixed_port = True
        srv.host, srv.port = "::1", p6
        srv.write_config()
        srv.start()
        import smtplib
        c = smtplib.SMTP("::1", p6, local_hostname="v6.test", timeout=10)
        try:
            c.ehlo()
            c.mail("x@example.org")
            code, text = c.rcpt("bob@example.net")
            self.assertEqual(code, 554, text)
            self.assertEqual(c.rcpt("alice@mydomain.test")[0], 250)
        finally:
            c.quit()
