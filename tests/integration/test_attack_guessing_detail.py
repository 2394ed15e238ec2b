"""Issue 9, item 2, written as the attack, the details that
test_attack_guessing (the guessing rates) does not measure: a correct
password from a penalised address is answered no sooner than a wrong one
(timing tells the guesser nothing); a second connection from an address
whose check is pending is refused at once, unchecked (one check per
address in flight); and USER/PASS without TLS, where pop3_auth is
tls-only, is refused before anything reaches auth. Checks are counted
from auth's own log lines ("login failed"/"login ok" when a check ran,
"login refused ... (not checked)" when none did)."""
import base64
import re
import socket
import ssl
import sys
import threading
import time
import unittest

from harness import Server, free_port
from tlsutil import make_cert, client_context

PASSWORDS = {"alice": "alice-secret", "bob": "bob-secret",
             "carol": "carol-secret", "dave": "dave-secret"}
CHECK_RX = re.compile(r"login (failed|ok): client=\[([0-9.]+)\] "
                      r'user="(?:[^"\\]|\\.)*" mechanism=(\S+)')


def guess_server():
    srv = Server(users=PASSWORDS, extra=[])
    crt, key = make_cert(srv.dir)
    srv.pop_port = free_port()
    srv.smtps_port = free_port()
    srv.extra = ["tls_cert = %s" % crt, "tls_key = %s" % key,
                 "listen_pop3 = 127.0.0.1:%d" % srv.pop_port,
                 "listen_smtps = 127.0.0.1:%d" % srv.smtps_port]
    srv.write_config()
    for name, pw in PASSWORDS.items():
        r = srv.user("passwd", name, pw, extra_args=["--apop"])
        assert r.returncode == 0, r.stderr
    srv.start()
    srv.wait_listening(port=srv.pop_port)
    srv.wait_listening(port=srv.smtps_port)
    return srv


def apop_digest(greeting, password):
    import hashlib
    ts = re.search(rb"<[^>]*>", greeting).group(0)
    return hashlib.md5(ts + password.encode()).hexdigest()


class Conn:
    """A bare line-oriented client (POP3 or SMTP, optionally TLS)."""

    def __init__(self, port, source, tls=False, timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout,
                                             source_address=(source, 0))
        if tls:
            self.sock = client_context().wrap_socket(self.sock)
        self.buf = b""

    def line(self, timeout):
        """One line, or None if none came within timeout (or at EOF)."""
        deadline = time.time() + timeout
        while b"\r\n" not in self.buf:
            left = deadline - time.time()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                d = self.sock.recv(4096)
            except (socket.timeout, ssl.SSLError, OSError):
                return None
            if not d:
                return None
            self.buf += d
        ln, self.buf = self.buf.split(b"\r\n", 1)
        return ln

    def smtp_reply(self, timeout):
        """The last line of an SMTP reply, or None."""
        while True:
            ln = self.line(timeout)
            if ln is None or ln[3:4] != b"-":
                return ln

    def send(self, data):
        self.sock.sendall(data)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def one_guess(srv, kind, source, user, password, wait):
    """Connect, send one guess, wait up to `wait` s for the answer, hang
    up. Returns the answer line (None if it did not come in time)."""
    try:
        if kind == "smtp":
            c = Conn(srv.smtps_port, source, tls=True)
            if c.smtp_reply(10) is None:
                return None
            c.send(b"EHLO guesser.test\r\n")
            if c.smtp_reply(10) is None:
                return None
            cred = base64.b64encode(("\0%s\0%s" % (user, password)).encode())
            c.send(b"AUTH PLAIN " + cred + b"\r\n")
            ans = c.smtp_reply(wait)
        else:
            c = Conn(srv.pop_port, source)
            greeting = c.line(10)
            if greeting is None:
                return None
            if kind == "apop":
                c.send(("APOP %s %s\r\n" % (user, apop_digest(greeting,
                        password))).encode())
                ans = c.line(wait)
            else:
                # pop3_auth is tls-only (the default with a certificate):
                # the guesser does STLS first, as it must.
                c.send(b"STLS\r\n")
                ans = c.line(10)
                if ans is None or not ans.startswith(b"+OK"):
                    return ans
                c.sock = client_context().wrap_socket(c.sock)
                c.send(("USER %s\r\nPASS %s\r\n" % (user, password)).encode())
                ans = c.line(wait)          # +OK send PASS
                if ans is not None and ans.startswith(b"+OK"):
                    ans = c.line(wait)
        c.close()
        return ans
    except OSError:
        return None


def report(what, value):
    sys.stderr.write("\n[figure] %s: %s\n" % (what, value))


class Guessing(unittest.TestCase):
    def setUp(self):
        self.srv = guess_server()

    def tearDown(self):
        self.srv.stop()
        self.srv.remove()

    def test_correct_password_not_answered_sooner(self):
        # Two penalised addresses, in step: after two failures each, one
        # sends the right password and the other a wrong one. Both answers
        # take the same time: the delay tells the guesser nothing.
        results = {}

        def run(source, last):
            c = Conn(self.srv.pop_port, source)
            greeting = c.line(10)
            times = []
            for pw in ("wrong-1", "wrong-2", last):
                t = time.time()
                c.send(("APOP dave %s\r\n" % apop_digest(greeting, pw))
                       .encode())
                ans = c.line(30)
                times.append((time.time() - t, ans))
            c.close()
            results[source] = times

        ths = [threading.Thread(target=run, args=a, daemon=True) for a in
               (("127.0.0.13", PASSWORDS["dave"]), ("127.0.0.14", "wrong-3"))]
        for t in ths:
            t.start()
        for t in ths:
            t.join(60)
        ok_t, ok_ans = results["127.0.0.13"][2]
        bad_t, bad_ans = results["127.0.0.14"][2]
        report("third answer at a penalised address",
               "correct %.2f s, wrong %.2f s" % (ok_t, bad_t))
        self.assertTrue(ok_ans.startswith(b"+OK"), ok_ans)
        self.assertTrue(bad_ans.startswith(b"-ERR [AUTH]"), bad_ans)
        self.assertGreaterEqual(ok_t, 3.5)      # the 4 s step of the curve
        self.assertGreaterEqual(ok_t, bad_t - 0.5)

    def test_second_request_while_one_pending(self):
        # A guesser with two connections from one address: while the first
        # guess's answer is held, the second is refused at once, unchecked.
        a = Conn(self.srv.pop_port, "127.0.0.15")
        b = Conn(self.srv.pop_port, "127.0.0.15")
        ga, gb = a.line(10), b.line(10)
        t = time.time()
        a.send(("APOP alice %s\r\n" % apop_digest(ga, "x")).encode())
        self.assertTrue(self.srv.wait_log(
            r'login failed: client=\[127\.0\.0\.15\] user="alice" '
            r'mechanism=APOP'))
        b.send(("APOP alice %s\r\n" % apop_digest(gb, "y")).encode())
        ans_b = b.line(10)
        tb = time.time() - t
        ans_a = a.line(10)
        ta = time.time() - t
        a.close()
        b.close()
        self.assertTrue(ans_b.startswith(b"-ERR [SYS/TEMP]"), ans_b)
        self.assertTrue(ans_a.startswith(b"-ERR [AUTH]"), ans_a)
        self.assertLess(tb, ta)
        self.assertGreaterEqual(ta, 0.9)
        self.assertEqual(len(CHECK_RX.findall(self.srv.log())), 1,
                         "only one check ran")
        self.assertTrue(self.srv.wait_log(
            r'login refused: client=\[127\.0\.0\.15\] user="alice" '
            r'mechanism=APOP reason="(a check from this address is pending|'
            r'penalty running)"'))

    def test_clean_address_checks_wait_their_turn(self):
        # A mail client polling two mailboxes at once from one clean
        # address: one check at a time, but the second waits its turn
        # instead of being refused.
        a = Conn(self.srv.pop_port, "127.0.0.16")
        b = Conn(self.srv.pop_port, "127.0.0.16")
        ga, gb = a.line(10), b.line(10)
        a.send(("APOP alice %s\r\n" % apop_digest(ga, PASSWORDS["alice"])).encode())
        b.send(("APOP bob %s\r\n" % apop_digest(gb, PASSWORDS["bob"])).encode())
        ans_a, ans_b = a.line(20), b.line(20)
        a.close()
        b.close()
        self.assertTrue(ans_a and ans_a.startswith(b"+OK"), ans_a)
        self.assertTrue(ans_b and ans_b.startswith(b"+OK"), ans_b)
        oks = [m for m in CHECK_RX.findall(self.srv.log())
               if m[0] == "ok" and m[1] == "127.0.0.16"]
        self.assertEqual(len(oks), 2, self.srv.log()[-2000:])

    def test_plaintext_refused_without_tls(self):
        # pop3_auth = tls-only (the default with a certificate): USER/PASS
        # in clear text is refused before anything reaches auth.
        c = Conn(self.srv.pop_port, "127.0.0.16")
        c.line(10)
        c.send(b"USER alice\r\nPASS alice-secret\r\n")
        ans = c.line(10)
        self.assertTrue(ans.startswith(b"-ERR [AUTH] Plain text passwords "
                                       b"need TLS"), ans)
        ans = c.line(10)
        self.assertTrue(ans.startswith(b"-ERR"), ans)
        c.send(b"QUIT\r\n")
        self.assertTrue(c.line(10).startswith(b"+OK"))
        c.close()
        self.assertTrue(self.srv.wait_log(
            r"pop3d.*disconnect from \[127\.0\.0\.16\]"))
        self.assertNotRegex(self.srv.log(), r"login \w+: client=\[127\.0\.0\.16\]")


if __name__ == "__main__":
    unittest.main()
