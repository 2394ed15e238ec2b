"""Outbound delivery against real peers on loopback: smtp-sink as the MX
found through dnsmasq, Python sinks that answer 2xx / 4xx-then-2xx / 5xx,
bounces in the sender's Maildir, loops, aliases, and a restart.

Every config sets dns_servers (our dnsmasq) or routes: nothing here
resolves or contacts a non-loopback address."""
import os
import re
import shutil
import tempfile
import time
import unittest

from harness import PosternTestCase
from outbound_peers import PySink, SmtpSink, Dnsmasq, SMTP_SINK, DNSMASQ

MSG = (b"From: Alice <alice@mydomain.test>\r\n"
       b"To: Bob <bob@example.net>\r\n"
       b"Subject: %s\r\n"
       b"\r\n"
       b"first line\r\n"
       b".a line that starts with a dot\r\n"
       b"..two dots\r\n"
       b"\r\n"
       b"last line\r\n")


def received_header(raw):
    """The leading Received: header of raw (with its folded lines)."""
    m = re.match(rb"Received: [^\r]*\r\n(?:[ \t][^\r]*\r\n)*", raw)
    return m.group(0) if m else None


class Outbound(PosternTestCase):

    def peer(self, p):
        p.start()
        self.addCleanup(p.stop)
        return p

    def send(self, srv, rcpts, subject, sender="alice@mydomain.test", body=None):
        c = srv.smtp()
        try:
            c.sendmail(sender, rcpts, body if body is not None else MSG % subject)
        finally:
            c.quit()

    # -- MX through DNS, smtp-sink as the remote server -------------------
    @unittest.skipUnless(os.path.exists(SMTP_SINK) and os.path.exists(DNSMASQ),
                         "smtp-sink or dnsmasq not installed (make deps)")
    def test_mx_delivery_to_smtp_sink(self):
        # smtp-sink runs as `postern` when we are root: its dump directory
        # must not sit under the server's 0700 directory.
        dumpdir = tempfile.mkdtemp(prefix="postern-sink-")
        self.addCleanup(shutil.rmtree, dumpdir, True)
        sink = self.peer(SmtpSink(dump_dir=dumpdir))
        # two MX, the better one down: mail goes to the second
        dns = self.peer(Dnsmasq([
            "--mx-host=example.net,mx1.example.net,10",
            "--mx-host=example.net,mx2.example.net,20",
            "--host-record=mx1.example.net,127.0.0.4",
            "--host-record=mx2.example.net,127.0.0.5"]))
        sinkport = sink.port
        srv = self.server(omit=("route",), extra=[
            "dns_servers = %s" % dns.server,
            "remote_smtp_port = %d" % sinkport])
        self.send(srv, ["bob@example.net", "carol@example.net"], b"tok-mx")
        # smtp-sink creates its dump file when the transaction starts and
        # writes it as data arrives: read it once postern has the 250.
        for rcpt in ("bob", "carol"):
            self.assertTrue(srv.wait_log(r"to=<%s@example\.net> relay=\S+ status=sent" % rcpt,
                                         30), srv.log()[-3000:])
        files = sink.wait_files(1, 10)
        self.assertEqual(len(files), 1, srv.log()[-3000:])
        dump = files[0]
        self.assertIn(b"X-Rcpt-Args: <bob@example.net>", dump)
        self.assertIn(b"X-Rcpt-Args: <carol@example.net>", dump)
        self.assertIn(b"X-Mail-Args: <alice@mydomain.test>", dump)
        # the message as received plus our Received header, dots unstuffed
        # smtp-sink puts its own Received: first; ours follows
        body = dump[dump.index(b"\nReceived: from client.test") + 1:]
        expected = (MSG % b"tok-mx").replace(b"\r\n", b"\n")
        self.assertTrue(body.startswith(b"Received: from client.test ([127.0.0.1])\n"), body[:200])
        self.assertTrue(body.rstrip(b"\n").endswith(expected.rstrip(b"\n")), body)
        self.assertEqual(len(srv.wait_queue_empty(5)), 0)
        self.assertRegex(srv.log(), r"to=<bob@example\.net> relay=mx2\.example\.net\[127\.0\.0\.5\]:%d status=sent" % sinkport)

    # -- byte for byte, one transaction for both recipients ----------------
    def test_bytes_on_the_wire(self):
        sink = self.peer(PySink(host="127.0.0.6", size=10000000))
        srv = self.server(omit=("route",), extra=[
            "route example.org = 127.0.0.6:%d" % sink.port, "dns_servers = 127.0.0.1:9"])
        self.send(srv, ["x@example.org", "y@example.org"], b"tok-bytes")
        msgs = sink.wait_messages(1)
        self.assertEqual(len(msgs), 1, srv.log()[-3000:])
        m = msgs[0]
        self.assertEqual(m["rcpts"], ["x@example.org", "y@example.org"])
        self.assertTrue(m["from"].startswith("<alice@mydomain.test> SIZE="), m["from"])
        rcv = received_header(m["raw"])
        self.assertIsNotNone(rcv, m["raw"][:200])
        stuffed = (MSG % b"tok-bytes").replace(b"\r\n.", b"\r\n..")
        self.assertEqual(m["raw"], rcv + stuffed + b".\r\n")
        # MAIL, both RCPTs and DATA were pipelined, one connection
        self.assertEqual(sink.connections, 1)
        self.assertEqual(len(srv.wait_queue_empty(5)), 0)

    def test_helo_fallback_and_8bit(self):
        sink = self.peer(PySink(host="127.0.0.7", ehlo=False))
        srv = self.server(omit=("route",), extra=[
            "route example.org = 127.0.0.7:%d" % sink.port, "dns_servers = 127.0.0.1:9"])
        body = b"Subject: tok-8bit\r\n\r\ncaf\xc3\xa9\r\n"
        self.send(srv, ["x@example.org"], None, body=body)
        msgs = sink.wait_messages(1)
        self.assertEqual(len(msgs), 1, srv.log()[-3000:])
        self.assertTrue(msgs[0]["raw"].endswith(body + b".\r\n"))
        self.assertIn("HELO mx.mydomain.test", sink.commands)
        self.assertEqual(msgs[0]["from"], "<alice@mydomain.test>")   # no ESMTP parameters

    # -- 4xx then 2xx: retried, delivered once ----------------------------
    def test_tempfail_then_success(self):
        sink = self.peer(PySink(host="127.0.0.8",
                                data_reply=lambda n: "451 4.3.0 try again later" if n == 0 else None))
        srv = self.server(omit=("route",), extra=[
            "route example.org = 127.0.0.8:%d" % sink.port, "dns_servers = 127.0.0.1:9",
            "retry_min = 1", "retry_max = 2"])
        self.send(srv, ["x@example.org"], b"tok-temp")
        self.assertTrue(srv.wait_log(r"to=<x@example\.org> .*status=deferred \(451 4\.3\.0 try again later\)", 5),
                        srv.log()[-2000:])
        msgs = sink.wait_messages(1, 10)
        self.assertEqual(len(msgs), 1, srv.log()[-3000:])
        self.assertEqual(len(srv.wait_queue_empty(5)), 0)
        time.sleep(1.5)
        self.assertEqual(len(sink.messages), 1)
        self.assertEqual(os.listdir(os.path.join(srv.spool, "deferred")), [])
        self.assertEqual(srv.mails("alice"), {})      # no bounce

    def test_deferred_file_records_the_schedule(self):
        sink = self.peer(PySink(host="127.0.0.9", rcpt_reply=lambda n, a: "450 4.2.1 mailbox busy"))
        srv = self.server(omit=("route",), extra=[
            "route example.org = 127.0.0.9:%d" % sink.port, "dns_servers = 127.0.0.1:9"])
        t0 = int(time.time())
        self.send(srv, ["x@example.org"], b"tok-sched")
        self.assertTrue(srv.wait_log(r"status=deferred \(450 4\.2\.1 mailbox busy\)", 5))
        qid = srv.queue_ids()[0]
        path = os.path.join(srv.spool, "deferred", qid)
        deadline = time.time() + 3
        while not os.path.exists(path) and time.time() < deadline:
            time.sleep(0.05)
        with open(path) as f:
            text = f.read()
        m = re.match(r"next (\d+)\nattempts 1\nerror 0 450 4\.2\.1 mailbox busy\n\Z", text)
        self.assertTrue(m, text)
        self.assertGreaterEqual(int(m.group(1)), t0 + 300)      # retry_min default 300 s
        self.assertIn(b"\nrcpt P R - <x@example.org>", srv.queue_file(qid))

    # -- 5xx: bounce to the sender's Maildir ------------------------------
    def test_permanent_failure_bounces(self):
        sink = self.peer(PySink(host="127.0.0.10",
                                rcpt_reply=lambda n, a: "550 5.1.1 <%s>: no such user" % a if a.startswith("bad") else None))
        srv = self.server(omit=("route",), extra=[
            "route example.org = 127.0.0.10:%d" % sink.port, "dns_servers = 127.0.0.1:9"])
        self.send(srv, ["good@example.org", "bad@example.org"], b"tok-5xx")
        msgs = sink.wait_messages(1)
        self.assertEqual([m["rcpts"] for m in msgs], [["good@example.org"]])
        got = srv.wait_mails("alice", 1, match=b"multipart/report")
        self.assertEqual(len(got), 1, srv.log()[-3000:])
        b = got[0]
        self.assertIn(b"Return-Path: <>\r\n", b)
        self.assertIn(b"report-type=delivery-status", b)
        self.assertIn(b"Final-Recipient: rfc822; bad@example.org\r\n", b)
        self.assertIn(b"Action: failed\r\nStatus: 5.1.1\r\n", b)
        self.assertIn(b"Diagnostic-Code: smtp; 550 5.1.1 <bad@example.org>: no such user\r\n", b)
        self.assertIn(b"Remote-MTA: dns; 127.0.0.10[127.0.0.10]", b)
        self.assertIn(b"Subject: tok-5xx\r\n", b)       # the original's headers
        self.assertNotIn(b"good@example.org\r\nAction", b)
        self.assertNotIn(b"first line", b)               # never the body
        self.assertEqual(len(srv.wait_queue_empty(5)), 0)

    def test_null_sender_gets_no_bounce_postmaster_once(self):
        sink = self.peer(PySink(host="127.0.0.11", rcpt_reply=lambda n, a: "550 5.7.1 go away"))
        srv = self.server(omit=("route",), extra=[
            "route example.org = 127.0.0.11:%d" % sink.port, "dns_servers = 127.0.0.1:9"])
        self.send(srv, ["x@example.org"], b"tok-nullsender", sender="")
        # a bounce (null sender) that fails goes to postmaster (alice) once
        got = srv.wait_mails("alice", 1, match=b"tok-nullsender")
        self.assertEqual(len(got), 1, srv.log()[-3000:])
        self.assertIn(b"To: <postmaster@mydomain.test>", got[0])
        self.assertEqual(len(srv.wait_queue_empty(5)), 0)
        time.sleep(0.5)
        self.assertEqual(len(srv.mails("alice")), 1)

    # -- loops and null MX --------------------------------------------------
    @unittest.skipUnless(os.path.exists(DNSMASQ), "dnsmasq not installed")
    def test_loops_and_null_mx(self):
        dns = self.peer(Dnsmasq([
            "--mx-host=loop.example,mx.mydomain.test,10",
            "--host-record=mx.mydomain.test,127.0.0.1",
            "--dns-rr=nullmx.example,15,000000"]))
        srv = self.server(omit=("route",), extra=["dns_servers = %s" % dns.server])
        self.send(srv, ["u@loop.example"], b"tok-loop")
        self.send(srv, ["u@nullmx.example"], b"tok-nullmx")
        hops = b"".join(b"Received: from h%d by h%d; Fri, 27 Nov 2026 20:00:00 +0000\r\n" % (i, i)
                        for i in range(51))
        # too many hops: refused at the end of DATA (issue 9), never bounced
        import smtplib
        with self.assertRaises(smtplib.SMTPDataError) as cm:
            self.send(srv, ["u@example.org"], None, body=hops + b"Subject: tok-hops\r\n\r\nx\r\n")
        self.assertEqual(cm.exception.smtp_code, 554)
        self.assertIn(b"5.4.6", cm.exception.smtp_error)
        got = srv.wait_mails("alice", 2, match=b"multipart/report", timeout=10)
        self.assertEqual(len(got), 2, srv.log()[-4000:])
        text = b"\n".join(got)
        self.assertIn(b"Status: 5.4.6\r\nDiagnostic-Code: x-postern; mail for loop.example loops back to myself", text)
        self.assertIn(b"Status: 5.1.10", text)
        self.assertEqual(len(srv.wait_queue_empty(5)), 0)

    # -- aliases and recipient_delimiter ------------------------------------
    def test_aliases(self):
        sink = self.peer(PySink(host="127.0.0.12"))
        srv = self.server(start=False, omit=("route",), extra=[
            "route example.org = 127.0.0.12:%d" % sink.port, "dns_servers = 127.0.0.1:9",
            "recipient_delimiter = +"])
        apath = os.path.join(srv.dir, "aliases")
        with open(apath, "w") as f:
            f.write("# test aliases\nteam: alice, bob,\n  someone@example.org\n"
                    "loop1: loop2\nloop2: loop1\n")
        os.chmod(apath, 0o600)
        srv.extra.append("aliases = %s" % apath)
        srv.write_config()
        srv.start()
        self.send(srv, ["team@mydomain.test"], b"tok-team")
        self.send(srv, ["alice+lists@mydomain.test"], b"tok-plus")
        # an alias loop is refused at RCPT time (issue 9: a bounce would be
        # backscatter for a forged sender), not bounced after a 250
        c = srv.smtp()
        c.mail("bob@mydomain.test")
        self.assertEqual(c.rcpt("loop1@mydomain.test")[0], 550)
        c.quit()
        self.assertTrue(srv.wait_log(r"alias loop1 refused at RCPT: alias loop"))
        self.assertEqual(len(srv.wait_mails("alice", 1, match=b"tok-team")), 1)
        self.assertEqual(len(srv.wait_mails("bob", 1, match=b"tok-team")), 1)
        self.assertEqual(len(srv.wait_mails("alice", 1, match=b"tok-plus")), 1)
        msgs = sink.wait_messages(1)
        self.assertEqual(len(msgs), 1, srv.log()[-3000:])
        self.assertEqual(msgs[0]["rcpts"], ["someone@example.org"])
        self.assertEqual(msgs[0]["from"].split()[0], "<alice@mydomain.test>")
        self.assertEqual(srv.wait_mails("bob", 1, match=b"alias loop", timeout=1), [])
        # an unknown name is still refused at RCPT time
        c = srv.smtp()
        c.mail("alice@mydomain.test")
        self.assertEqual(c.rcpt("nosuch@mydomain.test")[0], 550)
        c.quit()
        self.assertEqual(len(srv.wait_queue_empty(5)), 0)
