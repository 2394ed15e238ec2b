"""Issue 9 item 3, "every wait has a clock", written as the attack: strangers
on 127.0.0.2..127.0.0.40 send STARTTLS and then nothing, open smtps or pop3s
and never start the handshake, or send POP3 STLS and fall silent. Each such
socket must be closed by the server within its idle clock (smtp_timeout for
SMTP; pop3d's idle timeout is fixed at 10 minutes, so POP3 is bounded here by
max_session_time), while a local client is still served."""
import errno
import os
import select
import signal
import smtplib
import socket
import time
import unittest

from harness import Server, free_port, DOMAIN
from test_limits import proc_pid, rss_kib
from tlsutil import make_cert

SMTP_TIMEOUT = 3
MAX_SESSION_TIME = 8        # the bound for every POP3 staller
MARGIN = 12                 # a busy 2-core machine
N_STARTTLS = 300
N_SMTPS = 40
N_POP3S = 40
N_STLS = 40
SOURCES = ["127.0.0.%d" % i for i in range(2, 41)]   # 39 strangers


def connect(port, source):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((source, 0))
    s.settimeout(10)
    s.connect(("127.0.0.1", port))
    return s


def read_until(sock, pred, timeout=10.0):
    """Bytes from sock until pred(data) holds; AssertionError on EOF/time."""
    deadline = time.monotonic() + timeout
    data = b""
    while not pred(data):
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("no reply in time, got %r" % data)
        sock.settimeout(left)
        chunk = sock.recv(4096)
        if not chunk:
            raise AssertionError("closed early, got %r" % data)
        data += chunk
    return data


def smtp_done(code):
    def pred(data):
        lines = data.split(b"\r\n")
        return any(l.startswith(code + b" ") for l in lines[:-1])
    return pred


class Stall(unittest.TestCase):
    def setUp(self):
        self.ports = {k: free_port() for k in ("smtps", "pop3", "pop3s")}
        self.srv = Server(extra=[])
        crt, key = make_cert(self.srv.dir)
        self.srv.extra = [
            "tls_cert = %s" % crt, "tls_key = %s" % key,
            "listen_smtps = 127.0.0.1:%d" % self.ports["smtps"],
            "listen_pop3 = 127.0.0.1:%d" % self.ports["pop3"],
            "listen_pop3s = 127.0.0.1:%d" % self.ports["pop3s"],
            "smtp_timeout = %d" % SMTP_TIMEOUT,
            "max_session_time = %d" % MAX_SESSION_TIME,
        ]
        self.srv.write_config()
        self.srv.start()
        self.srv.wait_listening()
        for p in self.ports.values():
            self.srv.wait_listening(port=p)
        self.socks = []

    def tearDown(self):
        for s, _, _, _ in self.socks:
            s.close()
        self.srv.stop()
        self.srv.remove()

    def stall(self, kind, i):
        src = SOURCES[i % len(SOURCES)]
        if kind == "starttls":
            s = connect(self.srv.port, src)
            read_until(s, smtp_done(b"220"))
            s.sendall(b"EHLO x\r\n")
            read_until(s, smtp_done(b"250"))
            s.sendall(b"STARTTLS\r\n")
            read_until(s, smtp_done(b"220"))
            bound = SMTP_TIMEOUT
        elif kind == "stls":
            s = connect(self.ports["pop3"], src)
            read_until(s, lambda d: d.endswith(b"\r\n"))
            s.sendall(b"STLS\r\n")
            read_until(s, lambda d: d.endswith(b"\r\n") and
                       d.startswith(b"+OK"))
            bound = MAX_SESSION_TIME
        else:                   # smtps, pop3s: the TCP connection only
            s = connect(self.ports[kind], src)
            bound = SMTP_TIMEOUT if kind == "smtps" else MAX_SESSION_TIME
        s.setblocking(False)
        self.socks.append((s, kind, time.monotonic(), bound))

    def test_stalled_tls_sessions_are_closed_while_local_is_served(self):
        smtpd = proc_pid(self.srv, "smtpd")
        pop3d = proc_pid(self.srv, "pop3d")
        rss0, prss0 = rss_kib(smtpd), rss_kib(pop3d)
        kinds = (["starttls"] * N_STARTTLS + ["smtps"] * N_SMTPS +
                 ["pop3s"] * N_POP3S + ["stls"] * N_STLS)
        t0 = time.monotonic()
        for i, k in enumerate(kinds):
            self.stall(k, i)
        opened = time.monotonic() - t0
        rss_held, prss_held = rss_kib(smtpd), rss_kib(pop3d)

        # While they stall, a local client is greeted and its mail taken.
        t1 = time.monotonic()
        c = smtplib.SMTP("127.0.0.1", self.srv.port, timeout=10)
        c.sendmail("a@example.org", ["alice@" + DOMAIN],
                   b"Subject: during the stall\r\n\r\nhello\r\n")
        c.quit()
        local_s = time.monotonic() - t1
        self.assertTrue(self.srv.wait_mails("alice", 1, timeout=10))

        # Every staller is closed by the server, each within its bound.
        open_ = {s.fileno(): (s, k, t, b) for s, k, t, b in self.socks}
        closed_at = {}
        deadline = time.monotonic() + MAX_SESSION_TIME + MARGIN + 5
        while open_ and time.monotonic() < deadline:
            r, _, _ = select.select(list(open_), [], [], 0.5)
            for fd in r:
                s, k, t, b = open_[fd]
                try:
                    data = s.recv(4096)
                except ConnectionResetError:
                    data = b""
                except OSError as e:
                    if e.errno == errno.EAGAIN:
                        continue
                    raise
                if data == b"":
                    closed_at[fd] = (k, time.monotonic() - t, b)
                    del open_[fd]
                # anything else (a TLS alert, a 421) is read past
        self.assertEqual({k for _, k, _, _ in open_.values()}, set(),
                         "%d stalled sockets never closed" % len(open_))
        worst = {}
        for k, age, b in closed_at.values():
            worst[k] = max(worst.get(k, 0), age)
            self.assertLessEqual(age, b + MARGIN,
                                 "%s staller held %.1fs" % (k, age))
        print("\n  stall: %d sockets opened in %.2fs; VmRSS idle/held: smtpd "
              "%d/%d KiB, pop3d %d/%d KiB; local client served in %.3fs; "
              "worst close after stall by kind: %s" % (
                  len(kinds), opened, rss0, rss_held, prss0, prss_held, local_s,
                  ", ".join("%s %.1fs" % kv for kv in sorted(worst.items()))))
        log = self.srv.log()
        self.assertIn("timeout in TLS handshake", log)

    def test_wait_on_a_frozen_auth_is_bounded(self):
        """Our own process never answers (auth stopped): the session waiting
        on its user lookup gets 421 4.4.2 within 2 * smtp_timeout (plus the
        one smtp_timeout tick that notices), not a hang."""
        m = self.srv.wait_log(r"started smtpd\[\d+\] auth\[(\d+)\]", 5.0)
        self.assertIsNotNone(m)
        auth = int(m.group(1))
        s = connect(self.srv.port, "127.0.0.2")
        read_until(s, smtp_done(b"220"))
        s.sendall(b"EHLO x\r\nMAIL FROM:<a@example.org>\r\n")
        read_until(s, lambda d: b"250 2.1.0" in d and d.endswith(b"\r\n"))
        os.kill(auth, signal.SIGSTOP)
        try:
            t = time.monotonic()
            s.sendall(b"RCPT TO:<alice@" + DOMAIN.encode() + b">\r\n")
            got = read_until(s, lambda d: b"421" in d and d.endswith(b"\r\n"),
                             timeout=3 * SMTP_TIMEOUT + MARGIN)
            waited = time.monotonic() - t
        finally:
            os.kill(auth, signal.SIGCONT)
        self.assertIn(b"421 4.4.2", got)
        self.assertLessEqual(waited, 3 * SMTP_TIMEOUT + MARGIN)
        self.assertGreaterEqual(waited, 2 * SMTP_TIMEOUT - 0.5)
        print("\n  frozen auth: RCPT answered 421 4.4.2 after %.1fs" % waited)
        s.close()


if __name__ == "__main__":
    unittest.main()
