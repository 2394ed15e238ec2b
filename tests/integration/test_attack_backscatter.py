"""Issue 9 item 1, written as the attack: a stranger uses postern to aim
bounces (carrying the attacker's text) at a victim.

1. A message from 127.0.0.2 with 51 Received: headers and
   MAIL FROM:<victim@third.example> is refused at the end of DATA (554
   5.4.6): nothing is queued or delivered, and a loopback sink that every
   remote domain routes to sees no connection at all.  A positive control
   (a local client relaying one message) proves the sink was listening.
2. A sender with an address-literal domain outside the routes
   (victim@[127.0.0.9]) whose remote delivery fails for good: the bounce
   is dropped with a log line and nothing retries.  A trap listens where
   such a bounce would go ([127.0.0.9]:remote_smtp_port) and sees nothing.
3. The boundary, consistent with the queue process's loop check (more
   than 50 Received: in the queue file): 49 client headers plus ours make
   50, accepted and delivered; 50 plus ours would make 51, refused.
   With "route *" a literal sender's bounce follows that route.

Loopback only; every wait polls with a deadline."""
import os
import time
import unittest

from harness import PosternTestCase, free_port
from outbound_peers import PySink

STRANGER = "127.0.0.2"
ATTACK_SUBJECT = b"attacker text: buy now"


def hops(n):
    return b"".join(b"Received: from h%d by h%d; Fri, 27 Nov 2026 20:00:00 +0000\r\n"
                    % (i, i) for i in range(n))


def message(nhops, subject):
    return (hops(nhops) +
            b"From: <victim@third.example>\r\n"
            b"To: <bob@mydomain.test>\r\n"
            b"Subject: " + subject + b"\r\n"
            b"\r\n"
            b"body\r\n")


def wait_for(cond, timeout):
    """Poll cond() until it is true or timeout seconds pass; returns it."""
    deadline = time.time() + timeout
    while True:
        v = cond()
        if v or time.time() >= deadline:
            return v
        time.sleep(0.05)


class Backscatter(PosternTestCase):

    def peer(self, p):
        p.start()
        self.addCleanup(p.stop)
        return p

    def raw_send(self, srv, source, sender, rcpt, data):
        """One transaction over a bare socket; returns the reply to the
        end of DATA as (code, text)."""
        c = srv.raw(source=source, timeout=15.0)
        try:
            self.assertEqual(c.reply()[0], 220)
            self.assertEqual(c.cmd("EHLO attacker.test")[0], 250)
            self.assertEqual(c.cmd("MAIL FROM:<%s>" % sender)[0], 250)
            self.assertEqual(c.cmd("RCPT TO:<%s>" % rcpt)[0], 250)
            self.assertEqual(c.cmd("DATA")[0], 354)
            c.send(data + b".\r\n")
            r = c.reply(timeout=15.0)
            c.cmd("QUIT")
            return r
        finally:
            c.close()

    def test_loop_from_stranger_refused_nothing_leaves(self):
        sink = self.peer(PySink(host="127.0.0.1", port=free_port("127.0.0.1")))
        srv = self.server(omit=("route",), extra=[
            "route * = 127.0.0.1:%d" % sink.port])
        code, text = self.raw_send(srv, STRANGER, "victim@third.example",
                                   "bob@mydomain.test",
                                   message(51, ATTACK_SUBJECT))
        self.assertEqual(code, 554, text)
        self.assertIn("5.4.6", str(text))
        # nothing was queued, delivered or sent
        self.assertEqual(srv.queue_ids(), [])
        self.assertEqual(srv.mails("bob"), {})
        # The positive control: a local client relays one message; once
        # the sink has it, anything queued before it (a bounce to
        # third.example) would have been delivered in the same pass or
        # before, so zero messages from the attack is a real zero.
        c = srv.smtp()
        try:
            c.sendmail("alice@mydomain.test", ["carol@example.net"],
                       b"Subject: control\r\n\r\ncontrol\r\n")
        finally:
            c.quit()
        msgs = sink.wait_messages(1, 20)
        self.assertEqual(len(msgs), 1, srv.log()[-3000:])
        self.assertEqual(msgs[0]["rcpts"], ["carol@example.net"])
        self.assertEqual(wait_for(lambda: not srv.queue_ids(), 20), True)
        with sink.lock:
            self.assertEqual(sink.connections, 1, sink.commands)
            self.assertEqual(len(sink.messages), 1)
            self.assertFalse(any("victim" in c for c in sink.commands),
                             sink.commands)
        log = srv.log()
        self.assertNotIn("bounce", log)
        self.assertNotIn(ATTACK_SUBJECT.decode(), "".join(
            m["raw"].decode("latin-1") for m in msgs))
        self.assertEqual(srv.mails("bob"), {})

    def test_literal_sender_gets_no_bounce(self):
        # The remote peer refuses the recipient for good; the trap sits
        # where a bounce to victim@[127.0.0.9] would be delivered.
        reject = self.peer(PySink(host="127.0.0.1", port=free_port("127.0.0.1"),
                                  rcpt_reply=lambda n, a: "550 5.1.1 no such user"))
        trap = self.peer(PySink(host="127.0.0.9", port=free_port("127.0.0.9")))
        srv = self.server(omit=("route",), extra=[
            "route example.net = 127.0.0.1:%d" % reject.port,
            "remote_smtp_port = %d" % trap.port])
        c = srv.smtp()
        try:
            c.sendmail("victim@[127.0.0.9]", ["nobody@example.net"],
                       b"Subject: " + ATTACK_SUBJECT + b"\r\n\r\nbody\r\n")
        finally:
            c.quit()
        m = srv.wait_log(r"bounce to <victim@\[127\.0\.0\.9\]> dropped: "
                         r"address-literal sender domain with no route", 20)
        self.assertIsNotNone(m, srv.log()[-3000:])
        self.assertEqual(srv.wait_queue_empty(20), [], srv.log()[-3000:])
        log = srv.log()
        self.assertRegex(log, r"to=<nobody@example\.net> relay=\S+ status=bounced")
        self.assertNotRegex(log, r"bounce \S+ queued")
        self.assertNotIn("will retry", log)
        with reject.lock:
            self.assertEqual(reject.messages, [])
            self.assertFalse(any(c.upper().startswith("MAIL FROM:<>")
                                 for c in reject.commands), reject.commands)
        with trap.lock:
            self.assertEqual(trap.connections, 0, trap.commands)
        # nothing waits for a retry either
        deferred = os.path.join(srv.spool, "deferred")
        self.assertEqual([n for n in (os.listdir(deferred) if os.path.isdir(deferred) else [])
                          if not n.startswith(".")], [])

    def test_literal_sender_routed_still_bounced(self):
        # Where the admin routes everything ("route *"; a route line
        # cannot name a literal), the bounce follows that route: the
        # check is "outside the configured routes", not "every literal".
        reject = self.peer(PySink(host="127.0.0.1", port=free_port("127.0.0.1"),
                                  rcpt_reply=lambda n, a: "550 5.1.1 no such user"
                                  if a.startswith("nobody") else None))
        srv = self.server(omit=("route",), extra=[
            "route * = 127.0.0.1:%d" % reject.port])
        c = srv.smtp()
        try:
            c.sendmail("victim@[127.0.0.9]", ["nobody@example.net"],
                       b"Subject: routed\r\n\r\nbody\r\n")
        finally:
            c.quit()
        msgs = reject.wait_messages(1, 20)
        self.assertEqual(len(msgs), 1, srv.log()[-3000:])
        self.assertEqual(msgs[0]["from"], "<>")
        self.assertEqual(msgs[0]["rcpts"], ["victim@[127.0.0.9]"])
        self.assertEqual(srv.wait_queue_empty(20), [])
        self.assertNotIn("dropped: address-literal", srv.log())

    def test_hop_count_boundary(self):
        sink = self.peer(PySink(host="127.0.0.1", port=free_port("127.0.0.1")))
        srv = self.server(omit=("route",), extra=[
            "route * = 127.0.0.1:%d" % sink.port])
        # 50 from the client + ours = 51 > 50: refused, like 51
        code, text = self.raw_send(srv, STRANGER, "victim@third.example",
                                   "bob@mydomain.test", message(50, b"fifty"))
        self.assertEqual(code, 554, text)
        self.assertIn("5.4.6", str(text))
        self.assertEqual(srv.queue_ids(), [])
        # 49 + ours = 50: not a loop; delivered, no bounce
        code, text = self.raw_send(srv, STRANGER, "victim@third.example",
                                   "bob@mydomain.test", message(49, b"forty-nine"))
        self.assertEqual(code, 250, text)
        got = srv.wait_mails("bob", 1, 20, match=b"Subject: forty-nine")
        self.assertEqual(len(got), 1, srv.log()[-3000:])
        self.assertEqual(got[0].count(b"\r\nReceived: "), 50)
        self.assertEqual(srv.wait_queue_empty(20), [])
        self.assertNotIn("bounce", srv.log())
        with sink.lock:
            self.assertEqual(sink.connections, 0)


if __name__ == "__main__":
    unittest.main()
