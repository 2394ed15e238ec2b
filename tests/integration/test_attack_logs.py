"""Issue 9, items 7 and 8a, written as the attack.

Forged log lines: a stranger puts `client=[192.0.2.99]` (an address it
wants fail2ban to ban) into every string it can make postern log: the AUTH
user name (also with CR/LF, base64-encoded), HELO, the MAIL FROM local part,
the POP3 USER name.  No log line may carry that address outside a quoted
"..." value, every line must start with the timestamp (no raw line break
made a fake line), and the real client's address must be there.

Admin actions: `postern queue hold/release/delete/flush` and `postern grants
revoke` each log one line with the id or IP and the invoking uid.

Leftovers (8a): an smtpd killed in the middle of DATA leaves a file in
spool/incoming/; the restart of the child set removes it and says so."""
import base64
import os
import re
import signal
import smtplib
import socket
import time

from harness import PosternTestCase, free_port, run_postern, DOMAIN
from tlsutil import make_cert

FORGED = "192.0.2.99"
INJECT = "x client=[%s]" % FORGED
# A log line as log.c writes it on stderr: TIME postern/PROC[PID]: text
LINE_RX = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z postern/[\w-]+\[\d+\]: ")
# A quoted value as log_quote() writes it: '"' and '\' inside are escaped;
# an address as log_quote_token() writes it: <...> without blank, '<', '>'.
QUOTED_RX = re.compile(r'<[^<>\s]*>|"(?:[^"\\]|\\.)*"')


def server_lines(text):
    """The server's own lines (the harness writes '=== harness' markers)."""
    return [l for l in text.split("\n") if l and not l.startswith("===")]


def wait_for(cond, timeout, step=0.05):
    deadline = time.time() + timeout
    while True:
        v = cond()
        if v or time.time() >= deadline:
            return v
        time.sleep(step)


class ForgedLogLines(PosternTestCase):

    def setUp(self):
        self.pop_port = free_port()
        self.sub_port = free_port()
        self.srv = self.server(start=False)
        crt, key = make_cert(self.srv.dir)
        self.srv.extra = [
            "tls_cert = %s" % crt, "tls_key = %s" % key,
            "listen_pop3 = 127.0.0.1:%d" % self.pop_port,
            "listen_submission = 127.0.0.1:%d" % self.sub_port,
            "auth_over_plaintext = yes", "pop3_auth = any",
            "pop_before_smtp_ttl = 900"]
        self.srv.write_config()
        self.srv.start()
        self.srv.wait_listening(port=self.pop_port)
        self.srv.wait_listening(port=self.sub_port)

    def assertNotForged(self, real):
        lines = server_lines(self.srv.log())
        for l in lines:
            self.assertRegex(l, LINE_RX, "a line that is not a log line "
                             "(injected line break?): %r" % l)
            bare = QUOTED_RX.sub('""', l)
            self.assertNotIn(FORGED, bare, "forged address outside quotes: %r" % l)
            # an unanchored filter that ignores quoting altogether
            # (client=\[<HOST>\] anywhere in the line) finds no forged host
            self.assertNotIn(FORGED, re.findall(r"client=\[([0-9a-fA-F.:]+)\]", l),
                             "an unanchored client=[...] regex matches: %r" % l)
        for ip in real:
            self.assertTrue(any("client=[%s]" % ip in l for l in lines),
                            "real client %s not logged" % ip)

    def auth_plain(self, source, user, password=b"wrong-secret"):
        c = smtplib.SMTP("127.0.0.1", self.sub_port, local_hostname="c.test",
                         source_address=(source, 0), timeout=20)
        c.ehlo()
        tok = base64.b64encode(b"\0" + user + b"\0" + password).decode()
        code, _ = c.docmd("AUTH PLAIN " + tok)
        c.quit()
        return code

    def test_injected_auth_user_names(self):
        code = self.auth_plain("127.0.0.11", INJECT.encode())
        self.assertIn(code, (535, 501, 454), code)
        # CR/LF inside the base64 user name: a second, fake line if logged raw
        fake = ("x\r\n2026-12-03T11:00:00.000Z postern/auth[1]: login failed: "
                "client=[%s] user=\"x\"" % FORGED).encode()
        code = self.auth_plain("127.0.0.12", fake)
        self.assertIn(code, (535, 501, 454), code)
        self.assertTrue(self.srv.wait_log(r"client=\[127\.0\.0\.12\]"))
        self.assertTrue(self.srv.wait_log(
            r'login failed: client=\[127\.0\.0\.11\] user="x client=\\x5b192\.0\.2\.99\\x5d"'),
            "the failed login of the injected name is not logged, quoted")
        self.assertNotForged(["127.0.0.11", "127.0.0.12"])

    def test_injected_helo_and_sender(self):
        c = smtplib.SMTP("127.0.0.1", self.srv.port, local_hostname="h.test",
                         source_address=("127.0.0.13", 0), timeout=20)
        c.docmd("HELO " + INJECT)
        c.docmd("EHLO " + INJECT)
        c.docmd("EHLO x\"client=[%s]" % FORGED)
        c.docmd("EHLO h.test")
        # (postern's address parser refuses the blank in the quoted local
        # part with 501; without it the forged field is still there)
        c.docmd('MAIL FROM:<"a client=[%s]"@%s>' % (FORGED, DOMAIN))
        code, msg = c.docmd('MAIL FROM:<"a,client=[%s]"@example.org>' % FORGED)
        self.assertEqual(code, 250, msg)
        self.assertEqual(c.docmd("RCPT TO:<alice@%s>" % DOMAIN)[0], 250)
        self.assertEqual(c.docmd("DATA")[0], 354)
        c.send(b"Subject: forged\r\n\r\nbody\r\n.\r\n")
        code, msg = c.getreply()
        self.assertEqual(code, 250, msg)
        c.quit()
        # Submission: alice claims a sender that is not hers, injected
        c = smtplib.SMTP("127.0.0.1", self.sub_port, local_hostname="h.test",
                         source_address=("127.0.0.15", 0), timeout=20)
        c.ehlo()
        c.login("alice", "alice-secret")
        code, msg = c.docmd('MAIL FROM:<"a,client=[%s]"@%s>' % (FORGED, DOMAIN))
        self.assertEqual(code, 553, msg)
        c.quit()
        self.assertTrue(self.srv.wait_log(r"client=\[127\.0\.0\.15\].*(553|sender)"),
                        "the 553 sender rejection is not logged")
        self.assertTrue(self.srv.wait_log(r"client=\[127\.0\.0\.13\]"))
        self.assertTrue(wait_for(lambda: self.srv.mails("alice"), 10))
        self.assertNotForged(["127.0.0.13"])

    def test_injected_pop3_user(self):
        s = socket.create_connection(("127.0.0.1", self.pop_port), timeout=10,
                                     source_address=("127.0.0.14", 0))
        f = s.makefile("rb")
        self.assertTrue(f.readline().startswith(b"+OK"))
        for line in ("USER " + INJECT, "PASS wrong", "USER x\"client=[%s]" % FORGED,
                     "PASS wrong", "APOP %s 0123456789abcdef0123456789abcdef" % INJECT,
                     "USER bob", "PASS wrong"):
            s.sendall(line.encode() + b"\r\n")
            f.readline()
        s.sendall(b"QUIT\r\n")
        f.readline()
        s.close()
        self.assertTrue(self.srv.wait_log(
            r'auth failed client=\[127\.0\.0\.14\] user="bob" method=pass', timeout=15))
        self.assertNotForged(["127.0.0.14"])

    # -- every admin action is logged --------------------------------------
    def admin(self, *args):
        r = run_postern(list(args))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r.stderr

    def test_admin_actions_logged(self):
        c = self.srv.smtp()
        c.sendmail("alice@" + DOMAIN, ["bob@example.net"], b"Subject: wait\r\n\r\nx\r\n")
        c.quit()
        self.assertTrue(wait_for(lambda: len(self.srv.queue_ids()) == 1, 10))
        qid = self.srv.queue_ids()[0]
        uid = os.getuid()
        err = self.admin("queue", "-c", self.srv.conf, "hold", qid)
        self.assertRegex(err, r"(?m)^\S+ postern/queue\[\d+\]: admin: queue hold id=%s uid=%d$" % (qid, uid))
        err = self.admin("queue", "-c", self.srv.conf, "release", qid)
        self.assertRegex(err, r"(?m)^\S+ postern/queue\[\d+\]: admin: queue release id=%s uid=%d$"
                         % (qid, uid))
        err = self.admin("queue", "-c", self.srv.conf, "hold", qid)
        err = self.admin("queue", "-c", self.srv.conf, "delete", qid)
        self.assertRegex(err, r"(?m)^\S+ postern/queue\[\d+\]: admin: queue delete id=%s uid=%d$"
                         % (qid, uid))
        err = self.admin("queue", "-c", self.srv.conf, "flush")
        self.assertRegex(err, r"(?m)^\S+ postern/queue\[\d+\]: admin: queue flush due=\d+ uid=%d$"
                         % uid)
        # a POP-before-SMTP grant for 127.0.0.3, revoked by the admin
        s = socket.create_connection(("127.0.0.1", self.pop_port), timeout=20,
                                     source_address=("127.0.0.3", 0))
        f = s.makefile("rb")
        f.readline()
        for line in (b"USER alice", b"PASS alice-secret", b"QUIT"):
            s.sendall(line + b"\r\n")
            self.assertTrue(f.readline().startswith(b"+OK"), line)
        s.close()
        self.assertTrue(self.srv.wait_log(r"relay granted to 127\.0\.0\.3 ", timeout=15))
        err = self.admin("grants", "-c", self.srv.conf, "revoke", "127.0.0.3")
        self.assertRegex(err, r"(?m)^\S+ postern/grants\[\d+\]: admin: grants revoke "
                         r"client=\[127\.0\.0\.3\] uid=%d$" % uid)


class IncomingLeftovers(PosternTestCase):
    """8a: a child that dies in the middle of DATA leaves incoming/ID; the
    restart of the child set removes it (not only a master start)."""

    def test_killed_smtpd_leftover_removed_on_restart(self):
        srv = self.server()
        s = socket.create_connection((srv.host, srv.port), timeout=10,
                                     source_address=("127.0.0.2", 0))
        f = s.makefile("rb")

        def reply():
            while True:
                l = f.readline()
                if not l or l[3:4] != b"-":
                    return l
        self.assertTrue(reply().startswith(b"220"))
        for line, want in ((b"EHLO leftover.test", b"250"),
                           (b"MAIL FROM:<x@example.org>", b"250"),
                           (b"RCPT TO:<alice@%s>" % DOMAIN.encode(), b"250"),
                           (b"DATA", b"354")):
            s.sendall(line + b"\r\n")
            self.assertTrue(reply().startswith(want), line)
        incoming = os.path.join(srv.spool, "incoming")
        chunk = b"Subject: never acknowledged\r\n\r\n" + b"line of body text\r\n" * 500
        sent = 0

        def file_there():
            nonlocal sent
            if sent < 50:        # bounded: at most ~1.2 MB, never the final dot
                s.sendall(chunk)
                sent += 1
            return [n for n in os.listdir(incoming) if not n.startswith(".")]
        left = wait_for(file_there, 10)
        self.assertTrue(left, "no file in incoming/ during DATA")
        m = re.findall(r"postern/smtpd\[(\d+)\]", srv.log())
        self.assertTrue(m, "no smtpd pid in the log")
        smtpd = int(m[-1])
        self.assertIn(smtpd, srv.pids())
        os.kill(smtpd, signal.SIGKILL)
        s.close()
        self.assertTrue(srv.wait_log(r"restarting all children", timeout=10))
        for name in left:
            self.assertTrue(srv.wait_log(r"postern/master\[\d+\]: removed unacknowledged "
                                         r"incoming/%s" % re.escape(name), timeout=10),
                            "leftover incoming/%s not removed on restart" % name)
        srv.wait_listening(timeout=10)
        self.assertEqual(srv.incoming_ids(), [])
        self.assertTrue(srv.running())


if __name__ == "__main__":
    import unittest
    unittest.main()
