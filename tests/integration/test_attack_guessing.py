"""Issue 9 item 2, as the attack: a password guesser that does not wait for
the slow "wrong password" answer but hangs up ~100 ms after each guess and
reconnects at once, so that a delay on the reply alone would not slow it.

What is measured is the number of credential checks auth actually ran
("login failed" lines in the log: a refused attempt is logged as "login
refused ... (not checked)" and the password is never looked at), over a
bounded attack time:
  - one address, POP3 USER/PASS, APOP and SMTP AUTH PLAIN on smtps:
    sustained checks per second below 1;
  - 20 addresses (127.0.0.10..29) against one user: below 5 per second;
  - meanwhile the real user, from a clean address, logs in at once;
  - from the penalised address, the correct password is answered no
    sooner than a wrong one would be (timing reveals nothing).
The figures are printed (doc/SECURITY.md quotes them)."""
import base64
import re
import socket
import ssl
import threading
import time
import unittest

from harness import PosternTestCase, free_port
from tlsutil import make_cert, client_context

ATTACK_SECONDS = 15.0
PASSWORD = "alice-secret"


def pop3_guess(port, source, kind, password="guess", linger=0.1):
    """One guess on a fresh connection; returns the first reply line to the
    credential (or None when we hung up first)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10,
                                 source_address=(source, 0))
    try:
        f = s.makefile("rb")
        greet = f.readline()
        if kind == "apop":
            import hashlib
            ts = re.search(rb"<[^>]+>", greet).group(0)
            digest = hashlib.md5(ts + password.encode()).hexdigest()
            s.sendall(b"APOP alice " + digest.encode() + b"\r\n")
        else:
            s.sendall(b"USER alice\r\n")
            f.readline()
            s.sendall(b"PASS " + password.encode() + b"\r\n")
        s.settimeout(linger)
        try:
            return f.readline()
        except (socket.timeout, TimeoutError):
            return None
    finally:
        s.close()


def smtps_guess(port, source, ctx, password="guess", linger=0.1):
    raw = socket.create_connection(("127.0.0.1", port), timeout=10,
                                   source_address=(source, 0))
    s = ctx.wrap_socket(raw, server_hostname="mx.mydomain.test")
    try:
        f = s.makefile("rb")
        f.readline()
        s.sendall(b"EHLO guesser.test\r\n")
        while True:
            line = f.readline()
            if not line or line[3:4] == b" ":
                break
        cred = base64.b64encode(b"\0alice\0" + password.encode())
        s.sendall(b"AUTH PLAIN " + cred + b"\r\n")
        s.settimeout(linger)
        try:
            return f.readline()
        except (socket.timeout, TimeoutError, ssl.SSLError):
            return None
    finally:
        s.close()


class Guessing(PosternTestCase):

    def setUp(self):
        srv = self.server(start=False)
        crt, key = make_cert(srv.dir)
        srv.pop_port, srv.smtps_port = free_port(), free_port()
        srv.extra += ["listen_pop3 = 127.0.0.1:%d" % srv.pop_port, "pop3_auth = any",
                      "listen_smtps = 127.0.0.1:%d" % srv.smtps_port,
                      "tls_cert = %s" % crt, "tls_key = %s" % key,
                      "max_sessions_per_client = 1000"]
        srv.write_config()
        r = srv.user("passwd", "alice", PASSWORD, extra_args=["--apop"])
        self.assertEqual(r.returncode, 0, r.stderr)
        srv.start()
        srv.wait_listening(port=srv.pop_port)
        srv.wait_listening(port=srv.smtps_port)
        self.srv = srv
        self.ctx = client_context()

    def checks(self, sources):
        pat = re.compile(r"login failed: client=\[([0-9.]+)\]")
        return sum(1 for l in self.srv.log().splitlines()
                   for m in [pat.search(l)] if m and m.group(1) in sources)

    def attack(self, sources, guess):
        """Each source guesses in a loop for ATTACK_SECONDS; returns
        (attempts made, checks auth ran, seconds)."""
        stop = time.time() + ATTACK_SECONDS
        attempts = [0]
        lock = threading.Lock()

        def run(src):
            while time.time() < stop:
                try:
                    guess(src)
                except OSError:
                    pass
                with lock:
                    attempts[0] += 1

        t0 = time.time()
        threads = [threading.Thread(target=run, args=(s,)) for s in sources]
        for t in threads:
            t.start()
        for t in threads:
            t.join(ATTACK_SECONDS + 30)
        secs = time.time() - t0
        return attempts[0], self.checks(set(sources)), secs

    def report(self, what, attempts, checks, secs):
        rate = checks / secs
        print("\n  %s: %d attempts, %d checks run in %.1f s = %.2f checks/s"
              % (what, attempts, checks, secs, rate))
        return rate

    def test_one_address_reconnecting_pop3(self):
        src = "127.0.0.20"
        attempts, checks, secs = self.attack(
            [src], lambda s: pop3_guess(self.srv.pop_port, s, "user"))
        rate = self.report("POP3 USER/PASS, one address", attempts, checks, secs)
        self.assertGreater(attempts, 3 * checks, "the guesser was not even trying")
        self.assertLess(rate, 1.0)
        self.assertTrue(self.srv.wait_log(r"login refused: client=\[127\.0\.0\.20\] .*"
                                          r"reason=\"(penalty running|a check from this "
                                          r"address is pending)\""))
        # the real user, from a clean address, is not slowed down
        t = time.time()
        line = pop3_guess(self.srv.pop_port, "127.0.0.1", "user", PASSWORD, linger=10)
        self.assertTrue(line.startswith(b"+OK"), line)
        self.assertLess(time.time() - t, 2.0)
        # from the penalised address the right password waits as long as a
        # wrong one: first wait until it may be checked again at all
        deadline = time.time() + 40
        while time.time() < deadline:
            t = time.time()
            line = pop3_guess(self.srv.pop_port, src, "user", PASSWORD, linger=30)
            took = time.time() - t
            if line and not line.startswith(b"-ERR [SYS/TEMP]"):
                break
            time.sleep(0.5)
        self.assertTrue(line.startswith(b"+OK"), line)
        self.assertGreaterEqual(took, 0.9, "a correct password from a penalised "
                                "address came back faster than a wrong one would")

    def test_one_address_reconnecting_apop(self):
        attempts, checks, secs = self.attack(
            ["127.0.0.21"], lambda s: pop3_guess(self.srv.pop_port, s, "apop"))
        self.assertLess(self.report("POP3 APOP, one address", attempts, checks, secs), 1.0)
        self.assertGreater(attempts, 3 * checks)

    def test_one_address_reconnecting_smtps_auth_plain(self):
        attempts, checks, secs = self.attack(
            ["127.0.0.22"], lambda s: smtps_guess(self.srv.smtps_port, s, self.ctx))
        self.assertLess(self.report("SMTP AUTH PLAIN on smtps, one address",
                                    attempts, checks, secs), 1.0)
        self.assertGreater(attempts, 2 * checks)

    def test_twenty_addresses_one_user(self):
        sources = ["127.0.0.%d" % i for i in range(10, 30)]
        done = []

        def user_logs_in():
            # halfway through, the user checks mail from a clean address
            time.sleep(ATTACK_SECONDS / 2)
            t = time.time()
            line = pop3_guess(self.srv.pop_port, "127.0.0.1", "apop", PASSWORD, linger=10)
            done.append((line, time.time() - t))

        th = threading.Thread(target=user_logs_in)
        th.start()
        attempts, checks, secs = self.attack(
            sources, lambda s: pop3_guess(self.srv.pop_port, s, "user"))
        th.join(30)
        rate = self.report("POP3 USER/PASS, 20 addresses, one user", attempts, checks, secs)
        self.assertLess(rate, 5.0)
        self.assertEqual(len(done), 1)
        line, took = done[0]
        self.assertTrue(line and line.startswith(b"+OK"), line)
        self.assertLess(took, 2.0, "the user was slowed by someone else's failures")


if __name__ == "__main__":
    unittest.main()
