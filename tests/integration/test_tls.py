"""TLS on every listener: STARTTLS (RFC 3207), implicit TLS (RFC 8314),
POP3 STLS (RFC 2595) and pop3s; no command injection across STARTTLS or
STLS (CVE-2011-0411, the 2021 "NO STARTTLS" findings); the certificate
reloaded on SIGHUP without dropping sessions; TLS 1.2+ only."""
import os
import poplib
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import time
import unittest
import warnings

from harness import Server, free_port, DOMAIN
from tlsutil import make_cert, client_context, peer_cn


def tls_server(extra=()):
    ports = {k: free_port() for k in ("submission", "smtps", "pop3", "pop3s")}
    srv_obj = Server(extra=[])           # makes the directory and users
    crt, key = make_cert(srv_obj.dir)
    srv_obj.extra = ["tls_cert = %s" % crt, "tls_key = %s" % key,
                     "listen_submission = 127.0.0.1:%d" % ports["submission"],
                     "listen_smtps = 127.0.0.1:%d" % ports["smtps"],
                     "listen_pop3 = 127.0.0.1:%d" % ports["pop3"],
                     "listen_pop3s = 127.0.0.1:%d" % ports["pop3s"]] + list(extra)
    srv_obj.write_config()
    srv_obj.ports = ports
    srv_obj.crt, srv_obj.key = crt, key
    srv_obj.start()
    for p in ports.values():
        srv_obj.wait_listening(port=p)
    return srv_obj


def read_reply(sock, timeout=5.0):
    """One complete SMTP reply (all its lines) from a plain or TLS socket."""
    sock.settimeout(timeout)
    data = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            return data
        data += chunk
        lines = data.split(b"\r\n")
        if len(lines) > 1 and len(lines[-2]) >= 4 and lines[-2][3:4] == b" ":
            return data


class Tls(unittest.TestCase):
    def setUp(self):
        self.srv = tls_server()
        self.ctx = client_context()

    def tearDown(self):
        self.srv.stop()
        self.srv.remove()

    def test_starttls_smtplib_and_received_header(self):
        s = self.srv.smtp()
        self.assertTrue(s.has_extn("starttls"))
        s.starttls(context=self.ctx)
        s.ehlo()
        self.assertFalse(s.has_extn("starttls"), "STARTTLS must not be offered twice")
        s.sendmail("a@example.org", ["alice@" + DOMAIN], b"Subject: tls\r\n\r\nsecret\r\n")
        s.quit()
        got = self.srv.wait_mails("alice", 1)
        self.assertTrue(got)
        self.assertIn(b"with ESMTPS id", got[0])
        self.assertRegex(got[0], rb"\(using TLSv1\.[23] ")

    def test_implicit_tls_smtps(self):
        s = smtplib.SMTP_SSL("127.0.0.1", self.srv.ports["smtps"], context=self.ctx,
                             timeout=10)
        code, _ = s.ehlo()
        self.assertEqual(code, 250)
        self.assertFalse(s.has_extn("starttls"))
        self.assertEqual(peer_cn(s.sock), "mx.mydomain.test")
        s.quit()

    @unittest.skipUnless(shutil.which("openssl"), "no openssl")
    def test_openssl_s_client_starttls_smtp_and_pop3(self):
        for proto, port, cmd, want in (
                ("smtp", self.srv.port, b"EHLO c\r\nQUIT\r\n", b"221 2.0.0"),
                ("pop3", self.srv.ports["pop3"], b"CAPA\r\nQUIT\r\n", b"+OK postern POP3 server signing off")):
            r = subprocess.run(["openssl", "s_client", "-quiet", "-connect",
                                "127.0.0.1:%d" % port, "-starttls", proto],
                               input=cmd, capture_output=True, timeout=15)
            self.assertIn(want, r.stdout, r.stderr)

    def test_old_tls_refused(self):
        """A TLS 1.0/1.1-only client is refused with a protocol_version alert
        (RFC 8996), and the server goes on serving TLS 1.2+ clients."""
        ctx = client_context()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        try:
            ctx.set_ciphers("ALL:@SECLEVEL=0")
        except ssl.SSLError:
            pass
        with socket.create_connection(("127.0.0.1", self.srv.ports["smtps"]), 5) as raw:
            with self.assertRaises(ssl.SSLError) as cm:
                with ctx.wrap_socket(raw) as t:
                    t.recv(100)
        if cm.exception.reason == "NO_PROTOCOLS_AVAILABLE":
            self.skipTest("this OpenSSL cannot offer TLS 1.0/1.1 at all")
        # the server's alert, or its TLS 1.2 ServerHello that the client
        # cannot accept: either way the server said no to the version
        self.assertIn(cm.exception.reason, ("TLSV1_ALERT_PROTOCOL_VERSION",
                                            "UNSUPPORTED_PROTOCOL", "WRONG_SSL_VERSION"),
                      cm.exception)
        # survived: the same server greets a modern client on smtps
        self.assertTrue(self.srv.running(), "the server died")
        with socket.create_connection(("127.0.0.1", self.srv.ports["smtps"]), 5) as raw:
            with self.ctx.wrap_socket(raw, server_hostname="mx." + DOMAIN) as t:
                self.assertIn(t.version(), ("TLSv1.2", "TLSv1.3"))
                self.assertTrue(read_reply(t).startswith(b"220 "))
                t.sendall(b"QUIT\r\n")
                self.assertTrue(read_reply(t).startswith(b"221 "))

    def test_starttls_injection_smtp(self):
        sock = socket.create_connection(("127.0.0.1", self.srv.port), 5)
        self.assertTrue(read_reply(sock).startswith(b"220 "))
        sock.sendall(b"EHLO attacker\r\n")
        read_reply(sock)
        # Both commands in one segment: RSET must never be answered.
        sock.sendall(b"STARTTLS\r\nRSET\r\n")
        self.assertTrue(read_reply(sock).startswith(b"220 2.0.0"))
        t = self.ctx.wrap_socket(sock)
        t.sendall(b"EHLO real\r\n")
        first = read_reply(t)
        self.assertTrue(first.startswith(b"250-mx.mydomain.test"), first)
        self.assertNotIn(b"250 2.0.0 Ok", first)
        # The session was reset: MAIL needs the new EHLO (done), and the
        # pre-TLS EHLO's state is gone.
        t.sendall(b"NOOP\r\n")
        self.assertEqual(read_reply(t), b"250 2.0.0 Ok\r\n")
        t.sendall(b"QUIT\r\n")
        read_reply(t)
        t.close()
        self.assertTrue(self.srv.wait_log(r"bytes pipelined behind STARTTLS discarded"))

    def test_starttls_resets_session(self):
        s = self.srv.smtp()
        s.mail("a@example.org")
        s.starttls(context=self.ctx)
        # New EHLO required: MAIL before it is refused.
        code, _ = s.docmd("MAIL FROM:<a@example.org>")
        self.assertEqual(code, 503)
        s.quit()

    def test_stls_injection_pop3(self):
        sock = socket.create_connection(("127.0.0.1", self.srv.ports["pop3"]), 5)
        sock.settimeout(5)
        self.assertTrue(sock.recv(1024).startswith(b"+OK"))
        sock.sendall(b"STLS\r\nCAPA\r\n")
        line = sock.recv(1024)
        self.assertEqual(line, b"+OK Begin TLS negotiation\r\n")
        t = self.ctx.wrap_socket(sock)
        t.sendall(b"NOOP\r\n")
        got = t.recv(4096)
        # NOOP is not valid before login: the first answer inside TLS is
        # the NOOP's -ERR, never the injected CAPA's "+OK Capability".
        self.assertTrue(got.startswith(b"-ERR"), got)
        self.assertNotIn(b"Capability", got)
        t.close()

    def test_pop3_tls_only_by_default_with_tls(self):
        p = poplib.POP3("127.0.0.1", self.srv.ports["pop3"])
        self.assertIn("STLS", p.capa())
        with self.assertRaises(poplib.error_proto):
            p.user("alice")
        p.stls(self.ctx)
        p.user("alice")
        p.pass_("alice-secret")
        p.quit()
        q = poplib.POP3_SSL("127.0.0.1", self.srv.ports["pop3s"], context=self.ctx)
        q.user("alice")
        q.pass_("alice-secret")
        q.quit()

    def test_certificate_reload_on_sighup(self):
        old = smtplib.SMTP_SSL("127.0.0.1", self.srv.ports["smtps"], context=self.ctx,
                               timeout=10)
        old.ehlo()
        self.assertEqual(peer_cn(old.sock), "mx.mydomain.test")
        crt, key = make_cert(self.srv.dir, cn="renewed.mydomain.test", name="new")
        os.replace(crt, self.srv.crt)
        os.replace(key, self.srv.key)
        os.kill(self.srv.pid, signal.SIGHUP)
        self.assertTrue(self.srv.wait_log(r"TLS certificate reloaded"))
        deadline = time.time() + 5
        cn = None
        while time.time() < deadline:
            new = smtplib.SMTP_SSL("127.0.0.1", self.srv.ports["smtps"],
                                   context=self.ctx, timeout=10)
            cn = peer_cn(new.sock)
            new.quit()
            if cn == "renewed.mydomain.test":
                break
            time.sleep(0.1)
        self.assertEqual(cn, "renewed.mydomain.test")
        # The old session is still up, on its old certificate.
        self.assertEqual(old.noop()[0], 250)
        self.assertEqual(peer_cn(old.sock), "mx.mydomain.test")
        old.quit()


if __name__ == "__main__":
    unittest.main()
