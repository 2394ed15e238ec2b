"""Logs an administrator can grep: connection, recipient decision with rule,
accepted message, delivery; session ids that tell sessions apart."""
import re
import time

from harness import PosternTestCase


class Logs(PosternTestCase):

    def setUp(self):
        self.srv = self.server(relay_rules='127.0.0.9:allow,RELAYCLIENT=""\n')

    def test_one_line_each(self):
        c = self.srv.smtp("127.0.0.2")
        c.mail("sender@example.org")
        self.assertEqual(c.rcpt("alice@mydomain.test")[0], 250)
        self.assertEqual(c.rcpt("bob@example.net")[0], 554)
        self.assertEqual(c.rcpt("nobody@mydomain.test")[0], 550)
        code, text = c.data(b"Subject: tok-log\r\n\r\nx\r\n")
        qid = re.search(rb"queued as ([0-9A-F]{19})", text).group(1).decode()
        c.quit()
        self.assertTrue(self.srv.wait_log(r"id=%s to=<alice@mydomain\.test>.*status=sent" % qid, 5),
                        "no delivery log line")
        log = self.srv.log()
        self.assertRegex(log, r"connect from \[?127\.0\.0\.2\]?")
        self.assertRegex(log, r"to=<alice@mydomain\.test> decision=accept-local rule=\S")
        self.assertRegex(log, r"to=<bob@example\.net> decision=reject rule=\S.*554 5\.7\.1")
        self.assertRegex(log, r"to=<nobody@mydomain\.test>.*550 5\.1\.1")
        self.assertRegex(log, r"queued id=%s from=<sender@example\.org> size=\d+ nrcpt=1 "
                              r"client=\[?127\.0\.0\.2" % qid)
        self.assertEqual(len(re.findall(r"queued id=%s" % qid, log)), 1)

    def test_relay_rule_named_in_log(self):
        c = self.srv.smtp("127.0.0.9")
        c.mail("x@example.org")
        self.assertEqual(c.rcpt("bob@example.net")[0], 250)
        c.quit()
        self.assertTrue(self.srv.wait_log(r"to=<bob@example\.net> decision=accept-relay "
                                          r"rule=\"?relay_rules", 2))

    def test_session_ids_unique(self):
        # sequential sessions (each closed before the next opens) within the
        # same second must not share a session id, or grepping one session's
        # lines mixes several clients
        for i in range(5):
            c = self.srv.smtp("127.0.0.%d" % (10 + i))
            c.noop()
            c.quit()
            time.sleep(0.02)
        time.sleep(0.2)
        sids = re.findall(r"session=(\S+) connect from \[?127\.0\.0\.(\d+)", self.srv.log())
        by_sid = {}
        for sid, host in sids:
            by_sid.setdefault(sid, set()).add(host)
        shared = {s: sorted(h) for s, h in by_sid.items() if len(h) > 1}
        self.assertEqual(shared, {}, "one session id used by several clients: %r" % shared)
