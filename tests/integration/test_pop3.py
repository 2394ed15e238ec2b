"""POP3 (RFC 1939 + CAPA), APOP, and POP-before-SMTP, with real clients:
poplib, curl and fetchmail. Mail is delivered by SMTP, fetched by POP3 and
compared byte for byte with the Maildir file."""
import os
import poplib
import shutil
import socket
import subprocess
import time
import unittest

from harness import Server, free_port, run_postern, DOMAIN

PASSWORDS = {"alice": "alice-secret", "bob": "bob-secret"}


class SourcePOP3(poplib.POP3):
    """poplib has no source_address: bind the client to a loopback alias
    so that one machine plays several client addresses."""

    def __init__(self, host, port, source, timeout=10):
        self._source = source
        super().__init__(host, port, timeout=timeout)

    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout,
                                        source_address=(self._source, 0))


def pop3_server(ttl=900, auth=None, extra=()):
    pop_port = free_port()
    lines = ["listen_pop3 = 127.0.0.1:%d" % pop_port,
             "pop_before_smtp_ttl = %d" % ttl] + list(extra)
    if auth:
        lines.append("pop3_auth = %s" % auth)
    srv = Server(extra=lines)
    srv.pop_port = pop_port
    for name, pw in PASSWORDS.items():
        r = srv.user("passwd", name, pw, extra_args=["--apop"])
        assert r.returncode == 0, r.stderr
    srv.start()
    srv.wait_listening(port=pop_port)
    return srv


def drop(p):
    """End a POP3 connection without QUIT (poplib's file keeps the socket
    alive after sock.close(), so shut it down)."""
    p.sock.shutdown(socket.SHUT_RDWR)
    p.file.close()
    p.sock.close()


def send(srv, rcpt, body, source="127.0.0.1", sender="sender@example.org"):
    s = srv.smtp(source=source)
    try:
        s.sendmail(sender, [rcpt], body)
    finally:
        s.quit()


class Pop3Base(unittest.TestCase):
    ttl = 900
    auth = None

    def setUp(self):
        self.srv = pop3_server(ttl=self.ttl, auth=self.auth)

    def tearDown(self):
        if hasattr(self, "_outcome") and any(e for _, e in getattr(self._outcome, "errors", [])):
            self.srv.dump_log(self.id())
        self.srv.stop()
        self.srv.remove()

    def pop(self, source="127.0.0.1"):
        return SourcePOP3("127.0.0.1", self.srv.pop_port, source)


class Pop3Fetch(Pop3Base):
    BODIES = [
        b"Subject: one\r\n\r\nfirst message\r\n",
        b"Subject: dots\r\n\r\n.leading dot\r\n..two dots\r\n.\r\nx\r\n",
        b"Subject: long\r\n\r\n" + b"L" * 998 + b"\r\nend\r\n",
    ]

    def deliver_all(self):
        for b in self.BODIES:
            send(self.srv, "alice@" + DOMAIN, b)
        got = self.srv.wait_mails("alice", count=len(self.BODIES))
        self.assertEqual(len(got), len(self.BODIES))

    def maildir_files(self):
        """Maildir files in delivery order (names start with the time)."""
        m = self.srv.mails("alice")
        return [m[k] for k in sorted(m, key=lambda n: n.split("/", 1)[1])]

    def test_user_pass_stat_list_retr_byte_for_byte(self):
        self.deliver_all()
        files = self.maildir_files()
        p = self.pop()
        self.assertIn(b"<", p.getwelcome())          # APOP timestamp
        p.user("alice")
        p.pass_(PASSWORDS["alice"])
        count, size = p.stat()
        self.assertEqual(count, 3)
        self.assertEqual(size, sum(len(f) for f in files))
        _, listing, _ = p.list()
        self.assertEqual([int(l.split()[1]) for l in listing], [len(f) for f in files])
        for i, f in enumerate(files, 1):
            _, lines, octets = p.retr(i)
            # poplib strips CRLF and the transparency dots.
            self.assertEqual(b"\r\n".join(lines) + b"\r\n", f)
        p.quit()
        self.assertEqual(len(self.maildir_files()), 3, "RETR must not delete")

    def test_top_uidl_stable(self):
        self.deliver_all()
        p = self.pop()
        p.user("alice")
        p.pass_(PASSWORDS["alice"])
        _, lines, _ = p.top(1, 0)
        self.assertTrue(any(l.startswith(b"Return-Path:") for l in lines))
        self.assertNotIn(b"first message", b"\n".join(lines))
        _, lines, _ = p.top(2, 1)
        self.assertEqual(lines[-1], b".leading dot")
        _, uids, _ = p.uidl()
        first = [u.split()[1] for u in uids]
        self.assertEqual(len(set(first)), 3)
        for u in first:
            self.assertTrue(1 <= len(u) <= 70 and all(0x21 <= c <= 0x7e for c in u))
        p.quit()
        p = self.pop()
        p.user("alice")
        p.pass_(PASSWORDS["alice"])
        _, uids, _ = p.uidl()
        self.assertEqual([u.split()[1] for u in uids], first)
        self.assertEqual(p.uidl(2).split()[2], first[1])
        p.quit()

    def test_dele_rset_and_quit(self):
        self.deliver_all()
        p = self.pop()
        p.user("alice")
        p.pass_(PASSWORDS["alice"])
        p.dele(1)
        with self.assertRaises(poplib.error_proto):
            p.retr(1)
        p.rset()
        p.dele(2)
        # A dropped connection deletes nothing.
        drop(p)
        time.sleep(0.3)
        self.assertEqual(len(self.maildir_files()), 3)
        p = self.pop()
        p.user("alice")
        p.pass_(PASSWORDS["alice"])
        p.dele(2)
        p.quit()
        files = self.maildir_files()
        self.assertEqual(len(files), 2)
        self.assertFalse(any(b".leading dot" in f for f in files))

    def test_apop(self):
        send(self.srv, "bob@" + DOMAIN, b"Subject: apop\r\n\r\nhello bob\r\n")
        self.assertTrue(self.srv.wait_mails("bob", 1))
        p = self.pop()
        p.apop("bob", PASSWORDS["bob"])
        _, lines, _ = p.retr(1)
        self.assertIn(b"hello bob", lines)
        p.quit()
        p = self.pop()
        with self.assertRaises(poplib.error_proto) as cm:
            p.apop("bob", "wrong")
        self.assertIn(b"[AUTH]", cm.exception.args[0])

    def test_greeting_timestamps_differ(self):
        seen = set()
        for _ in range(5):
            p = self.pop()
            seen.add(p.timestamp.match(p.getwelcome()).group(1))
            p.quit()
        self.assertEqual(len(seen), 5)

    def test_wrong_password_and_in_use(self):
        p = self.pop()
        p.user("alice")
        with self.assertRaises(poplib.error_proto) as cm:
            p.pass_("nope")
        self.assertIn(b"[AUTH]", cm.exception.args[0])
        p.quit()
        self.assertTrue(self.srv.wait_log(r'login failed: client=\[127\.0\.0\.1\] user="alice" mechanism=USER/PASS'))
        p1 = self.pop(source="127.0.0.5")
        p1.user("alice")
        p1.pass_(PASSWORDS["alice"])
        p2 = self.pop(source="127.0.0.6")
        p2.user("alice")
        with self.assertRaises(poplib.error_proto) as cm:
            p2.pass_(PASSWORDS["alice"])
        self.assertIn(b"[IN-USE]", cm.exception.args[0])
        p1.quit()
        # The lock goes with the connection, however it ends.
        p3 = self.pop(source="127.0.0.6")
        p3.user("alice")
        p3.pass_(PASSWORDS["alice"])
        drop(p3)
        time.sleep(0.3)
        p4 = self.pop(source="127.0.0.6")
        p4.user("alice")
        p4.pass_(PASSWORDS["alice"])
        p4.quit()

    def test_failures_are_slowed_down(self):
        p = self.pop(source="127.0.0.7")
        times = []
        for _ in range(3):
            p.user("alice")
            t = time.time()
            with self.assertRaises(poplib.error_proto):
                p.pass_("guess")
            times.append(time.time() - t)
        p.quit()
        self.assertGreaterEqual(times[0], 0.9)
        self.assertGreaterEqual(times[2], 3.5)
        # Another address is not slowed by these failures.
        q = self.pop(source="127.0.0.8")
        q.user("alice")
        t = time.time()
        q.pass_(PASSWORDS["alice"])
        self.assertLess(time.time() - t, 0.9)
        q.quit()

    @unittest.skipUnless(shutil.which("curl"), "curl not installed")
    def test_curl(self):
        self.deliver_all()
        files = self.maildir_files()
        r = subprocess.run(["curl", "-s", "--max-time", "10",
                            "pop3://127.0.0.1:%d/2" % self.srv.pop_port,
                            "-u", "alice:" + PASSWORDS["alice"]],
                           capture_output=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, files[1])

    @unittest.skipUnless(shutil.which("fetchmail"), "fetchmail not installed")
    def test_fetchmail_apop(self):
        self.deliver_all()
        files = self.maildir_files()
        home = os.path.join(self.srv.dir, "fm")
        os.mkdir(home, 0o700)
        out = os.path.join(home, "out")
        rc = os.path.join(home, "fetchmailrc")
        with open(rc, "w") as f:
            f.write('poll 127.0.0.1 protocol APOP port %d\n'
                    '  user "alice" password "%s" is root here\n'
                    '  keep fetchall\n'
                    '  mda "/bin/sh -c \'cat >> %s; echo ==END== >> %s\'"\n'
                    % (self.srv.pop_port, PASSWORDS["alice"], out, out))
        os.chmod(rc, 0o600)
        env = dict(os.environ, FETCHMAILHOME=home, HOME=home)
        r = subprocess.run(["fetchmail", "-f", rc, "--nosyslog", "--nodetach",
                            "--pidfile", os.path.join(home, "pid")],
                           capture_output=True, env=env, timeout=30)
        self.assertIn(r.returncode, (0,), r.stdout + r.stderr)
        with open(out, "rb") as f:
            got = f.read().split(b"==END==\n")
        self.assertEqual(len([g for g in got if g]), 3)
        # fetchmail writes LF line ends to an MDA and adds its own
        # Received: header; the message itself must be intact.
        for want, g in zip(files, got):
            self.assertIn(want.split(b"\r\n\r\n", 1)[1].replace(b"\r\n", b"\n"), g)
        self.assertTrue(self.srv.wait_log(r'login ok: client=\S+ user="alice" mechanism=APOP'))


class Pop3ApopOnly(Pop3Base):
    auth = "apop-only"

    def test_user_pass_refused(self):
        p = self.pop()
        caps = p.capa()
        self.assertNotIn("USER", caps)
        with self.assertRaises(poplib.error_proto) as cm:
            p.user("alice")
        self.assertIn(b"APOP", cm.exception.args[0])
        p.apop("alice", PASSWORDS["alice"])
        p.quit()


class PopBeforeSmtp(Pop3Base):
    ttl = 3

    def rcpt(self, source):
        s = self.srv.smtp(source=source)
        try:
            s.mail("roamer@example.org")
            return s.rcpt("friend@example.net")[0]
        finally:
            s.quit()

    def test_grant_covers_one_address_and_expires(self):
        self.assertEqual(self.rcpt("127.0.0.3"), 554)
        p = self.pop(source="127.0.0.3")
        p.user("alice")
        p.pass_(PASSWORDS["alice"])
        p.quit()
        deadline = time.time() + 2
        code = None
        while time.time() < deadline:
            code = self.rcpt("127.0.0.3")
            if code == 250:
                break
            time.sleep(0.05)
        self.assertEqual(code, 250, "a POP3 login must grant relay")
        self.assertEqual(self.rcpt("127.0.0.4"), 554, "another address is not covered")
        # The granted relay is queued, and the log names the rule.
        send(self.srv, "friend@example.net", b"Subject: roaming\r\n\r\nhi\r\n",
             source="127.0.0.3")
        self.assertTrue(self.srv.wait_log(r'decision=accept-relay rule="pop-before-smtp alice"'))
        self.assertTrue(any(b"rcpt P R - <friend@example.net>" in q
                            for q in self.srv.queue_files().values()))
        self.assertTrue(self.srv.wait_log(r"pop-before-smtp: relay granted to 127\.0\.0\.3 for user alice until"))
        time.sleep(3.2)
        self.assertEqual(self.rcpt("127.0.0.3"), 554, "the grant must expire")

    def test_failed_login_grants_nothing(self):
        p = self.pop(source="127.0.0.9")
        p.user("alice")
        with self.assertRaises(poplib.error_proto):
            p.pass_("wrong")
        p.quit()
        self.assertEqual(self.rcpt("127.0.0.9"), 554)


class GrantsPersistAndRevoke(Pop3Base):
    ttl = 60

    def test_restart_and_revoke(self):
        p = self.pop(source="127.0.0.3")
        p.apop("bob", PASSWORDS["bob"])
        p.quit()
        r = run_postern(["grants", "-c", self.srv.conf, "list"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("127.0.0.3 user=bob", r.stdout)
        self.srv.stop()
        self.srv.start()
        s = self.srv.smtp(source="127.0.0.3")
        s.mail("roamer@example.org")
        self.assertEqual(s.rcpt("friend@example.net")[0], 250, "grants survive a restart")
        s.quit()
        r = run_postern(["grants", "-c", self.srv.conf, "revoke", "127.0.0.3"])
        self.assertEqual(r.returncode, 0, r.stderr)
        deadline = time.time() + 3
        code = 250
        while time.time() < deadline and code == 250:
            time.sleep(0.2)
            s = self.srv.smtp(source="127.0.0.3")
            s.mail("roamer@example.org")
            code = s.rcpt("friend@example.net")[0]
            s.quit()
        self.assertEqual(code, 554, "a revoked grant must stop relaying")
        r = run_postern(["grants", "-c", self.srv.conf, "revoke", "127.0.0.3"])
        self.assertEqual(r.returncode, 1)


if __name__ == "__main__":
    unittest.main()
