"""DKIM signing of outgoing mail: the queue process signs mail from our own
clients (SMTP AUTH, local_networks, `postern sendmail`) with the key of its
From: domain, and nothing else. Keys come from `postern dkim keygen`; the
loopback sink records what arrives and dkimpy verifies it with the record
keygen printed (dnsfunc): nothing asks DNS."""
import os
import re
import smtplib
import subprocess
import unittest

from harness import PosternTestCase, POSTERN, free_port
from outbound_peers import PySink
from tlsutil import make_cert, client_context

try:
    import dkim
except ImportError:  # pragma: no cover
    dkim = None

PASSWORDS = {"alice": "alice-secret", "bob": "bob-secret"}


def message(sender, token):
    return ("From: Alice <%s>\r\n"
            "To: Bob <bob@example.net>\r\n"
            "Subject: %s\r\n"
            "Date: Thu, 03 Dec 2026 14:00:00 +0000\r\n"
            "Message-ID: <%s@mydomain.test>\r\n"
            "\r\n"
            "first line\r\n"
            ".a line that starts with a dot\r\n"
            "\r\n"
            "last line\r\n" % (sender, token, token)).encode()


def unstuff(raw):
    """DATA as the sink recorded it (dot-stuffed, final dot) -> message."""
    assert raw.endswith(b"\r\n.\r\n"), raw[-20:]
    lines = raw[:-3].split(b"\r\n")
    return b"\r\n".join(l[1:] if l.startswith(b".") else l for l in lines)


def record_of(zone_line):
    return "".join(re.findall(r'"([^"]*)"', zone_line)).encode()


def header_section(msg):
    return msg.split(b"\r\n\r\n", 1)[0] + b"\r\n"


def signatures(msg):
    return re.findall(rb"(?im)^DKIM-Signature:", header_section(msg))


@unittest.skipIf(dkim is None, "python3-dkim (dkimpy) is not installed")
class DkimOutbound(PosternTestCase):

    def setUp(self):
        self.sink = PySink(host="127.0.0.12", rcpt_reply=lambda n, a:
                           "550 5.1.1 no such user" if a.startswith("nobody@") else None).start()
        self.addCleanup(self.sink.stop)

    def make_server(self, broken_key=False, extra=()):
        srv = self.server(start=False, omit=("route",))
        crt, key = make_cert(srv.dir)
        srv.sub_port = free_port()
        apath = os.path.join(srv.dir, "aliases")
        with open(apath, "w") as f:
            f.write("fwd: someone@example.net\n")
        os.chmod(apath, 0o600)
        srv.extra = [
            "tls_cert = %s" % crt, "tls_key = %s" % key,
            "listen_submission = 127.0.0.1:%d" % srv.sub_port,
            "route example.net = 127.0.0.12:%d" % self.sink.port,
            "dns_servers = 127.0.0.1:9",
            "aliases = %s" % apath,
            "dkim_sign mydomain.test = s1:dkim/s1.key",
            "dkim_sign ed.mydomain.test = e1:dkim/e1.key",
            "dkim_sign mx.mydomain.test = m1:dkim/m1.key",
        ] + list(extra)
        if broken_key:
            srv.extra.append("dkim_sign broken.mydomain.test = b1:dkim/nosuch.key")
        srv.write_config()
        self.records = {
            b"s1._domainkey.mydomain.test.": self.keygen(srv, "mydomain.test", "s1"),
            b"e1._domainkey.ed.mydomain.test.": self.keygen(
                srv, "ed.mydomain.test", "e1", ed=True),
            b"m1._domainkey.mx.mydomain.test.": self.keygen(
                srv, "mx.mydomain.test", "m1", ed=True),
        }
        for name, pw in PASSWORDS.items():
            r = srv.user("passwd", name, pw)
            self.assertEqual(r.returncode, 0, r.stderr)
        srv.start()
        srv.wait_listening(port=srv.sub_port)
        return srv

    def keygen(self, srv, domain, selector, ed=False):
        r = subprocess.run([POSTERN, "dkim", "keygen", "-c", srv.conf, domain,
                            selector] + (["--ed25519"] if ed else []),
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return record_of(r.stdout.decode())

    def dnsfunc(self, name, timeout=5):
        return self.records.get(name, b"")

    def arrived(self, n, srv):
        msgs = self.sink.wait_messages(n, 15)
        self.assertEqual(len(msgs), n, srv.log()[-3000:])
        return unstuff(msgs[n - 1]["raw"])

    def assertSignedBy(self, msg, domain, selector, algo):
        self.assertEqual(len(signatures(msg)), 1, header_section(msg))
        self.assertTrue(msg.startswith(b"DKIM-Signature:"), msg[:200])
        sig = header_section(msg).split(b"\r\nReceived:", 1)[0]
        unfolded = re.sub(rb"\r\n[ \t]+", b" ", sig)
        self.assertRegex(unfolded, rb"\bd=%s;" % re.escape(domain.encode()))
        self.assertRegex(unfolded, rb"\bs=%s;" % selector.encode())
        self.assertRegex(unfolded, rb"\ba=%s;" % algo.encode())
        self.assertRegex(unfolded, rb"\bc=relaxed/relaxed;")
        self.assertTrue(dkim.verify(msg, dnsfunc=self.dnsfunc), msg[:1500])

    def send_plain(self, srv, source, sender, rcpts, body):
        c = srv.smtp(source=source)
        try:
            c.sendmail(sender, rcpts, body)
        finally:
            c.quit()

    # -- (1) authenticated submission ----------------------------------------
    def test_authenticated_submission_signed(self):
        srv = self.make_server()
        # a stranger's address: only AUTH makes it ours
        s = smtplib.SMTP("127.0.0.1", srv.sub_port, local_hostname="c.test",
                         source_address=("127.0.0.5", 0), timeout=20)
        s.ehlo()
        s.starttls(context=client_context())
        s.ehlo()
        s.login("alice", PASSWORDS["alice"])
        s.sendmail("alice@mydomain.test", ["bob@example.net"],
                   message("alice@mydomain.test", "tok-auth"))
        s.quit()
        msg = self.arrived(1, srv)
        self.assertSignedBy(msg, "mydomain.test", "s1", "rsa-sha256")
        self.assertIn(b"tok-auth", msg)
        self.assertTrue(srv.wait_log(r"id=\S+ dkim=signed d=mydomain\.test s=s1"))
        # a changed body no longer verifies: the signature covers it
        self.assertFalse(dkim.verify(msg.replace(b"last line", b"last lime"),
                                     dnsfunc=self.dnsfunc))

    # -- (2) local_networks ----------------------------------------------------
    def test_local_network_signed(self):
        srv = self.make_server()
        self.send_plain(srv, "127.0.0.1", "alice@mydomain.test",
                        ["bob@example.net"], message("alice@mydomain.test", "tok-lan"))
        msg = self.arrived(1, srv)
        self.assertSignedBy(msg, "mydomain.test", "s1", "rsa-sha256")
        self.assertEqual(len(srv.wait_queue_empty(5)), 0)

    # -- a retry is signed afresh, once -----------------------------------------
    def test_retry_carries_one_signature(self):
        self.sink.data_reply = lambda n: "451 4.3.0 try again later" if n == 0 else None
        srv = self.make_server(extra=["retry_min = 1", "retry_max = 2"])
        self.send_plain(srv, "127.0.0.1", "alice@mydomain.test",
                        ["bob@example.net"], message("alice@mydomain.test", "tok-retry"))
        msg = self.arrived(1, srv)
        self.assertEqual(self.sink.transactions, 2)
        self.assertSignedBy(msg, "mydomain.test", "s1", "rsa-sha256")
        self.assertEqual(len(re.findall(r"dkim=signed", srv.log())), 2)
        self.assertEqual(len(srv.wait_queue_empty(5)), 0)

    # -- (3) a stranger's mail forwarded by an alias -----------------------------
    def test_stranger_alias_forward_unsigned(self):
        srv = self.make_server()
        # a forged From: our own domain, from a stranger, to a local alias
        self.send_plain(srv, "127.0.0.2", "someone@elsewhere.example",
                        ["fwd@mydomain.test"], message("alice@mydomain.test", "tok-fwd"))
        msg = self.arrived(1, srv)
        self.assertEqual(self.sink.messages[0]["rcpts"], ["someone@example.net"])
        self.assertIn(b"tok-fwd", msg)
        self.assertEqual(signatures(msg), [])
        self.assertNotIn("dkim=signed", srv.log())

    # -- (4) a From: domain without a key ------------------------------------
    def test_domain_without_key_unsigned(self):
        srv = self.make_server()
        self.send_plain(srv, "127.0.0.1", "carol@other.example",
                        ["bob@example.net"], message("carol@other.example", "tok-nokey"))
        msg = self.arrived(1, srv)
        self.assertEqual(signatures(msg), [])
        # two From: fields: whose key would it be? none.
        body = message("alice@mydomain.test", "tok-two").replace(
            b"To:", b"From: <alice@ed.mydomain.test>\r\nTo:", 1)
        self.send_plain(srv, "127.0.0.1", "alice@mydomain.test",
                        ["bob@example.net"], body)
        msg = self.arrived(2, srv)
        self.assertIn(b"tok-two", msg)
        self.assertEqual(signatures(msg), [])
        self.assertNotIn("dkim=signed", srv.log())

    # -- (5) ed25519 -----------------------------------------------------------
    def test_ed25519_signed(self):
        srv = self.make_server()
        self.send_plain(srv, "127.0.0.1", "alice@ed.mydomain.test",
                        ["bob@example.net"], message("alice@ed.mydomain.test", "tok-ed"))
        msg = self.arrived(1, srv)
        self.assertSignedBy(msg, "ed.mydomain.test", "e1", "ed25519-sha256")

    # -- `postern sendmail` ----------------------------------------------------
    def test_sendmail_signed(self):
        srv = self.make_server()
        r = subprocess.run([POSTERN, "sendmail", "-C", srv.conf, "-f",
                            "alice@mydomain.test", "bob@example.net"],
                           input=message("alice@mydomain.test", "tok-sendmail"),
                           capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        msg = self.arrived(1, srv)
        self.assertSignedBy(msg, "mydomain.test", "s1", "rsa-sha256")

    # -- our bounce, From: MAILER-DAEMON@ our hostname ----------------------------
    def test_bounce_signed(self):
        srv = self.make_server()
        # a stranger's mail to an alias whose target refuses it: the
        # forward goes unsigned, the bounce (ours) is signed
        with open(os.path.join(srv.dir, "aliases"), "w") as f:
            f.write("fwd: nobody@example.net\n")
        srv.stop()
        srv.start()
        self.send_plain(srv, "127.0.0.2", "carol@example.net",
                        ["fwd@mydomain.test"], message("carol@example.net", "tok-bounce"))
        msg = self.arrived(1, srv)
        self.assertEqual(self.sink.messages[0]["rcpts"], ["carol@example.net"])
        self.assertIn(b"multipart/report", msg)
        self.assertSignedBy(msg, "mx.mydomain.test", "m1", "ed25519-sha256")

    # -- an unreadable key -------------------------------------------------------
    def test_unreadable_key_logged_mail_goes(self):
        srv = self.make_server(broken_key=True)
        self.assertTrue(srv.wait_log(r"dkim_sign broken\.mydomain\.test .*unsigned"))
        self.send_plain(srv, "127.0.0.1", "alice@broken.mydomain.test",
                        ["bob@example.net"],
                        message("alice@broken.mydomain.test", "tok-broken"))
        msg = self.arrived(1, srv)
        self.assertEqual(signatures(msg), [])
        self.send_plain(srv, "127.0.0.1", "alice@mydomain.test",
                        ["bob@example.net"], message("alice@mydomain.test", "tok-ok"))
        msg = self.arrived(2, srv)
        self.assertSignedBy(msg, "mydomain.test", "s1", "rsa-sha256")
        self.assertEqual(len(re.findall(r"dkim_sign broken", srv.log())), 1)


if __name__ == "__main__":
    unittest.main()
