"""Outbound STARTTLS against loopback sinks (issue 5 item 6).

TlsSink is a threaded SMTP server on 127.0.0.X that offers STARTTLS with a
self-signed P-256 certificate made by openssl in the test's temporary
directory. It reads commands with its own buffer, so it can tell whether
the client sent anything behind STARTTLS, and it records for every
connection the commands seen in clear and inside TLS, the TLS version,
cipher and SNI, and every message with the session it came in.

Covered: tls=may (the default) delivers over TLS and logs version/cipher;
a large body streams through TLS; tls=required defers (4.7.x, nothing in clear) when STARTTLS is missing,
refused or the handshake fails, and delivers when TLS works; tls=none
never sends STARTTLS; bytes behind the server's 220 are discarded; a
server that answers STARTTLS with plaintext garbage gets a failed
handshake, then (may) one plaintext retry; MX delivery is opportunistic
and sends the MX name as SNI. Loopback only."""
import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

from harness import PosternTestCase, free_port
from outbound_peers import Dnsmasq, DNSMASQ, LoopbackPeer

MSG = (b"From: Alice <alice@mydomain.test>\r\n"
       b"To: Bob <x@example.org>\r\n"
       b"Subject: %s\r\n"
       b"\r\n"
       b"body line\r\n"
       b".dot line\r\n")

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"


def make_cert(dirname, cn):
    """Self-signed P-256 certificate and key in dirname; (cert, key)."""
    cert = os.path.join(dirname, "sink.crt")
    key = os.path.join(dirname, "sink.key")
    subprocess.run([OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                    "-subj", "/CN=%s" % cn, "-keyout", key, "-out", cert],
                   check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return cert, key


class TlsSink(LoopbackPeer):
    """starttls: offer it; starttls_reply: answer to STARTTLS (default 220);
    after_220: bytes sent in the same segment right behind the 220;
    garbage: after the 220, send these bytes in clear and close instead
    of doing the handshake (only on the first connection);
    offer_again: offer STARTTLS inside TLS as well."""

    threaded = False    # one session at a time: SNI is recorded per handshake

    def __init__(self, cert, key, host, starttls=True,
                 starttls_reply="220 2.0.0 Ready to start TLS",
                 after_220=b"", garbage=None, offer_again=False):
        assert host.startswith("127."), host
        self.host, self.port = host, free_port(host)
        self.starttls = starttls
        self.starttls_reply = starttls_reply
        self.after_220 = after_220
        self.garbage = garbage
        self.offer_again = offer_again
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        self.ctx.sni_callback = self._sni
        self.lock = threading.Lock()
        self.sessions = []      # per connection: dict
        self.messages = []      # dicts: from, rcpts, raw, tls (version or None)
        self._sni_seen = None

    def _sni(self, sslobj, name, ctx):
        self._sni_seen = name

    def all_commands(self):
        with self.lock:
            return [cmd for s in self.sessions for cmd in s["clear"] + s["tls"]]

    def _session(self, c):
        s = {"clear": [], "tls": [], "version": None, "cipher": None,
             "sni": None, "behind_starttls": b"", "error": None}
        with self.lock:
            self.sessions.append(s)
            first = len(self.sessions) == 1
        c.settimeout(10)
        conn = {"sock": c, "buf": b"", "tls": False}

        def send(data):
            conn["sock"].sendall(data)

        def line():
            while b"\r\n" not in conn["buf"]:
                d = conn["sock"].recv(4096)
                if not d:
                    return None
                conn["buf"] += d
            l, conn["buf"] = conn["buf"].split(b"\r\n", 1)
            return l.decode("latin-1")

        try:
            send(b"220 tls-sink.example.net ESMTP\r\n")
            mail, rcpts = None, []
            while True:
                cmd = line()
                if cmd is None:
                    return
                with self.lock:
                    s["tls" if conn["tls"] else "clear"].append(cmd)
                u = cmd.upper()
                if u.startswith("EHLO"):
                    ext = ["250-tls-sink.example.net", "250-PIPELINING"]
                    if self.starttls and (not conn["tls"] or self.offer_again):
                        ext.append("250-STARTTLS")
                    ext.append("250 8BITMIME")
                    send(("\r\n".join(ext) + "\r\n").encode())
                elif u == "STARTTLS" and self.starttls and not conn["tls"]:
                    if not self.starttls_reply.startswith("220"):
                        send(self.starttls_reply.encode() + b"\r\n")
                        continue
                    # Nothing may follow STARTTLS in clear (RFC 3207).
                    s["behind_starttls"] = conn["buf"]
                    send(self.starttls_reply.encode() + b"\r\n" + self.after_220)
                    if self.garbage is not None and first:
                        time.sleep(0.2)     # its own segment, after the 220
                        send(self.garbage)
                        time.sleep(0.5)
                        return
                    self._sni_seen = None
                    try:
                        t = self.ctx.wrap_socket(c, server_side=True)
                    except (ssl.SSLError, OSError) as e:
                        s["error"] = str(e)
                        return
                    conn.update(sock=t, buf=b"", tls=True)
                    s["version"], s["cipher"] = t.version(), t.cipher()[0]
                    s["sni"] = self._sni_seen
                elif u.startswith("HELO"):
                    send(b"250 tls-sink.example.net\r\n")
                elif u.startswith("MAIL FROM:"):
                    mail, rcpts = cmd[10:], []
                    send(b"250 2.1.0 ok\r\n")
                elif u.startswith("RCPT TO:"):
                    rcpts.append(cmd[8:].strip("<>"))
                    send(b"250 2.1.5 ok\r\n")
                elif u == "DATA":
                    send(b"354 go ahead\r\n")
                    raw = b""
                    while True:
                        l = line()
                        if l is None:
                            return
                        raw += l.encode("latin-1") + b"\r\n"
                        if l == ".":
                            break
                    with self.lock:
                        self.messages.append({"from": mail, "rcpts": rcpts,
                                              "raw": raw,
                                              "tls": s["version"]})
                    send(b"250 2.0.0 queued as TLSSINK\r\n")
                elif u == "RSET":
                    send(b"250 ok\r\n")
                elif u == "QUIT":
                    send(b"221 bye\r\n")
                    return
                else:
                    send(b"502 5.5.1 unknown\r\n")
        except (OSError, ssl.SSLError) as e:
            s["error"] = str(e)
        finally:
            try:
                conn["sock"].close()
            except OSError:
                pass


@unittest.skipUnless(os.path.exists(OPENSSL), "openssl not installed")
class OutboundTls(PosternTestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="postern-tls-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.cert, self.key = make_cert(self.tmp, "tls-sink.example.net")

    def sink(self, host, **kw):
        s = TlsSink(self.cert, self.key, host, **kw).start()
        self.addCleanup(s.stop)
        return s

    def routed(self, sink, opt="", extra=()):
        route = "route example.org = %s:%d%s" % (sink.host, sink.port,
                                                 " " + opt if opt else "")
        return self.server(omit=("route",), extra=[
            route, "dns_servers = 127.0.0.1:9"] + list(extra))

    def send(self, srv, subject, rcpts=("x@example.org",)):
        c = srv.smtp()
        try:
            c.sendmail("alice@mydomain.test", list(rcpts), MSG % subject)
        finally:
            c.quit()

    def sent_line(self, srv, sink, addr="x@example.org", timeout=5):
        return srv.wait_log(
            r"id=(\S+) to=<%s> relay=%s\[%s\]:%d status=sent \(250 [^)]*\) "
            r"tls=(\S+)" % (re.escape(addr), re.escape(sink.host),
                            re.escape(sink.host), sink.port), timeout)

    def deferred_text(self, srv, qid):
        path = os.path.join(srv.spool, "deferred", qid)
        deadline = time.time() + 5
        while time.time() < deadline:
            try:
                with open(path, "rb") as f:
                    return f.read().decode("utf-8", "replace")
            except FileNotFoundError:
                time.sleep(0.05)
        self.fail("no deferred/%s" % qid)

    def assertNoMail(self, sink):
        for cmd in sink.all_commands():
            self.assertFalse(cmd.upper().startswith(("MAIL", "RCPT", "DATA")),
                             sink.sessions)
        self.assertEqual(sink.messages, [])

    # -- may (the default) ----------------------------------------------
    def test_default_may_delivers_over_tls(self):
        sink = self.sink("127.0.0.21")
        srv = self.routed(sink)
        self.send(srv, b"tok-tls-may")
        msgs = sink.wait_messages(1)
        self.assertEqual(len(msgs), 1, srv.log()[-3000:])
        self.assertIn(msgs[0]["tls"], ("TLSv1.2", "TLSv1.3"))
        self.assertTrue(msgs[0]["raw"].endswith(
            b"Subject: tok-tls-may\r\n\r\nbody line\r\n..dot line\r\n.\r\n"),
            msgs[0]["raw"])
        s = sink.sessions[0]
        # in clear: EHLO and STARTTLS only, nothing pipelined behind it
        self.assertEqual([c.split()[0] for c in s["clear"]], ["EHLO", "STARTTLS"])
        self.assertEqual(s["behind_starttls"], b"")
        # inside TLS: EHLO again, then the transaction
        self.assertEqual(s["tls"][0], "EHLO mx.mydomain.test")
        self.assertIsNone(s["sni"])     # the route names an address: no SNI
        m = self.sent_line(srv, sink)
        self.assertIsNotNone(m, srv.log()[-3000:])
        self.assertEqual(m.group(2), "%s/%s" % (s["version"], s["cipher"]))
        self.assertEqual(len(srv.wait_queue_empty(5)), 0)

    def test_large_body_over_tls(self):
        # Several times the driver's 256 KiB output mark: the body is
        # refilled as the TLS filter drains into the socket.
        sink = self.sink("127.0.0.31")
        srv = self.routed(sink)
        lines = b"".join(b".%06d %s\r\n" % (i, b"x" * 90) for i in range(9000))
        body = b"Subject: tok-tls-big\r\n\r\n" + lines
        c = srv.smtp()
        try:
            c.sendmail("alice@mydomain.test", ["x@example.org"], body)
        finally:
            c.quit()
        msgs = sink.wait_messages(1, 20)
        self.assertEqual(len(msgs), 1, srv.log()[-3000:])
        self.assertIn(msgs[0]["tls"], ("TLSv1.2", "TLSv1.3"))
        stuffed = body.replace(b"\r\n.", b"\r\n..")
        self.assertTrue(msgs[0]["raw"].endswith(stuffed + b".\r\n"))

    def test_required_delivers_over_tls(self):
        sink = self.sink("127.0.0.22")
        srv = self.routed(sink, "tls=required")
        self.send(srv, b"tok-tls-req")
        msgs = sink.wait_messages(1)
        self.assertEqual(len(msgs), 1, srv.log()[-3000:])
        self.assertIn(msgs[0]["tls"], ("TLSv1.2", "TLSv1.3"))
        m = self.sent_line(srv, sink)
        self.assertIsNotNone(m, srv.log()[-3000:])
        self.assertTrue(m.group(2).startswith("TLSv1."), m.group(2))

    # -- required: never plaintext -----------------------------------------
    def test_required_without_starttls_stays_deferred(self):
        sink = self.sink("127.0.0.23", starttls=False)
        srv = self.routed(sink, "tls=required")
        self.send(srv, b"tok-tls-nooffer")
        self.assertIsNotNone(srv.wait_log(r"TLS required but not available", 10),
                             srv.log()[-3000:])
        self.assertIsNotNone(srv.wait_log(r"to=<x@example\.org> .*status=deferred", 5))
        qids = srv.queue_ids()
        self.assertEqual(len(qids), 1)
        text = self.deferred_text(srv, qids[0])
        self.assertIn("4.7.4 TLS required but not available: STARTTLS not offered", text)
        time.sleep(0.3)
        self.assertNoMail(sink)
        self.assertEqual(srv.queue_ids(), qids)     # still queued

    def test_required_starttls_refused_stays_deferred(self):
        sink = self.sink("127.0.0.24", starttls_reply="454 4.7.0 TLS not available")
        srv = self.routed(sink, "tls=required")
        self.send(srv, b"tok-tls-refused")
        self.assertIsNotNone(srv.wait_log(r"status=deferred", 10), srv.log()[-3000:])
        text = self.deferred_text(srv, srv.queue_ids()[0])
        self.assertIn("TLS required but not available: STARTTLS refused: "
                      "454 4.7.0 TLS not available", text)
        self.assertNoMail(sink)

    def test_may_starttls_refused_goes_on_in_clear(self):
        sink = self.sink("127.0.0.25", starttls_reply="454 4.7.0 TLS not available")
        srv = self.routed(sink)
        self.send(srv, b"tok-tls-refused-may")
        msgs = sink.wait_messages(1)
        self.assertEqual(len(msgs), 1, srv.log()[-3000:])
        self.assertIsNone(msgs[0]["tls"])
        self.assertEqual(sink.sessions[0]["clear"][1], "STARTTLS")
        m = self.sent_line(srv, sink)
        self.assertIsNotNone(m, srv.log()[-3000:])
        self.assertEqual(m.group(2), "none")

    # -- none ----------------------------------------------------------------
    def test_none_never_sends_starttls(self):
        sink = self.sink("127.0.0.26")
        srv = self.routed(sink, "tls=none")
        self.send(srv, b"tok-tls-none")
        msgs = sink.wait_messages(1)
        self.assertEqual(len(msgs), 1, srv.log()[-3000:])
        self.assertIsNone(msgs[0]["tls"])
        self.assertNotIn("STARTTLS", [c.upper() for c in sink.all_commands()])
        m = self.sent_line(srv, sink)
        self.assertIsNotNone(m, srv.log()[-3000:])
        self.assertEqual(m.group(2), "none")

    # -- hostile servers -----------------------------------------------------
    def test_bytes_behind_220_are_discarded(self):
        # A fake EHLO reply offering PIPELINING without STARTTLS, in the
        # same segment as the 220: read as the reply to the TLS EHLO, it
        # would make the client send MAIL at once.
        inj = b"250-injected\r\n250 PIPELINING\r\n"
        sink = self.sink("127.0.0.27", after_220=inj, offer_again=True)
        srv = self.routed(sink, "tls=required")
        self.send(srv, b"tok-tls-inject")
        msgs = sink.wait_messages(1)
        self.assertEqual(len(msgs), 1, srv.log()[-3000:])
        self.assertIn(msgs[0]["tls"], ("TLSv1.2", "TLSv1.3"))
        s = sink.sessions[0]
        self.assertEqual(len(sink.sessions), 1)
        self.assertEqual(s["tls"][0], "EHLO mx.mydomain.test")
        self.assertTrue(s["tls"][1].startswith("MAIL FROM:"), s["tls"])
        # STARTTLS offered again inside TLS: not sent twice
        self.assertEqual([c for c in s["tls"] if c.upper() == "STARTTLS"], [])
        self.assertIsNotNone(srv.wait_log(r"%d bytes from %s\S* behind the "
                                          r"STARTTLS reply discarded"
                                          % (len(inj), re.escape(sink.host)), 5),
                             srv.log()[-3000:])

    def test_garbage_instead_of_handshake_may_retries_in_clear(self):
        sink = self.sink("127.0.0.28", garbage=b"250 2.0.0 ok\r\n250 ok\r\n")
        srv = self.routed(sink)
        self.send(srv, b"tok-tls-garbage")
        msgs = sink.wait_messages(1)
        self.assertEqual(len(msgs), 1, srv.log()[-3000:])
        self.assertIsNone(msgs[0]["tls"])
        self.assertEqual(len(sink.sessions), 2)
        # first connection: nothing after STARTTLS in clear
        self.assertEqual([c.split()[0] for c in sink.sessions[0]["clear"]],
                         ["EHLO", "STARTTLS"])
        self.assertEqual(sink.sessions[0]["tls"], [])
        # second: no STARTTLS at all
        self.assertNotIn("STARTTLS", sink.sessions[1]["clear"])
        self.assertRegex(srv.log(), r"TLS handshake with %s\S* failed: .*trying "
                         r"again without TLS" % re.escape(sink.host))
        m = self.sent_line(srv, sink)
        self.assertIsNotNone(m, srv.log()[-3000:])
        self.assertEqual(m.group(2), "none")

    def test_garbage_instead_of_handshake_required_defers(self):
        sink = self.sink("127.0.0.29", garbage=b"250 2.0.0 ok\r\n250 ok\r\n")
        srv = self.routed(sink, "tls=required")
        self.send(srv, b"tok-tls-garbage-req")
        self.assertIsNotNone(srv.wait_log(r"status=deferred", 10), srv.log()[-3000:])
        text = self.deferred_text(srv, srv.queue_ids()[0])
        self.assertIn("4.7.5 TLS required but not available: TLS handshake with", text)
        self.assertEqual(len(sink.sessions), 1)
        self.assertNoMail(sink)

    # -- MX: opportunistic, SNI is the MX name ---------------------------------
    @unittest.skipUnless(os.path.exists(DNSMASQ), "dnsmasq not installed (make deps)")
    def test_mx_is_opportunistic_with_sni(self):
        sink = self.sink("127.0.0.30")
        dns = Dnsmasq(["--mx-host=example.net,mx.example.net,10",
                       "--host-record=mx.example.net,127.0.0.30"])
        dns.start()
        self.addCleanup(dns.stop)
        srv = self.server(omit=("route",), extra=[
            "dns_servers = %s" % dns.server, "remote_smtp_port = %d" % sink.port])
        self.send(srv, b"tok-tls-mx", rcpts=("bob@example.net",))
        msgs = sink.wait_messages(1)
        self.assertEqual(len(msgs), 1, srv.log()[-3000:])
        self.assertIn(msgs[0]["tls"], ("TLSv1.2", "TLSv1.3"))
        self.assertEqual(sink.sessions[0]["sni"], "mx.example.net")
        self.assertIsNotNone(srv.wait_log(
            r"to=<bob@example\.net> relay=mx\.example\.net\[127\.0\.0\.30\]:%d "
            r"status=sent \(250 [^)]*\) tls=TLSv1\.[23]/" % sink.port, 5),
            srv.log()[-3000:])


if __name__ == "__main__":
    unittest.main()
