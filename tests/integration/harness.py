"""harness - start and stop `postern serve` for the integration tests.

Each Server lives in its own temporary directory (tempfile.mkdtemp(), 0700,
owned by whoever runs the tests) with a config file, a users file, a spool
and the server's log (stderr and stdout of `postern serve`).  The server is
started in its own session/process group so that a test can SIGKILL the
master alone or the whole group.

Environment:
  POSTERN        path of the binary (default: REPO/postern)
  POSTERN_KEEP   if set, temporary directories are not removed
  POSTERN_LOG    if set, print the server log even when a test passes
  POSTERN_VALGRIND  if set, `postern serve` runs under valgrind (memcheck,
                 every child traced); one log per process in
                 $POSTERN_VALGRIND_LOGS (default: the server's directory),
                 named vg.PID.log; `make check-valgrind` reads them

Only loopback addresses are used, and ports are found by binding to port 0.
"""
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import shutil
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
POSTERN = os.path.abspath(os.environ.get("POSTERN", os.path.join(REPO, "postern")))
DOMAIN = "mydomain.test"
CRLF = b"\r\n"


def ensure_system_user():
    """postern drops privileges to `postern` when started as root."""
    if os.geteuid() != 0:
        return
    try:
        import pwd
        pwd.getpwnam("postern")
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home",
                        "--home-dir", "/nonexistent", "--shell",
                        "/usr/sbin/nologin", "postern"], check=False)


def _ephemeral_range():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = f.read().split()
            return int(lo), int(hi)
    except (OSError, ValueError):
        return 32768, 60999


def free_port(host="127.0.0.1"):
    """A port that is free now, chosen outside the kernel's ephemeral range
    when possible: the tests open thousands of client connections, whose
    ephemeral source ports would otherwise collide with a server port picked
    by bind(0) (and so would a second test run on the same machine)."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    lo, hi = _ephemeral_range()
    candidates = [p for p in (random.randrange(10000, 65000) for _ in range(200))
                  if not lo <= p <= hi][:50]
    for port in candidates:
        with socket.socket(fam, socket.SOCK_STREAM) as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
            return port
    with socket.socket(fam, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def have_ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def valgrind_prefix(where):
    """The valgrind command line that POSTERN_VALGRIND asks for, or []."""
    if not os.environ.get("POSTERN_VALGRIND"):
        return []
    logs = os.environ.get("POSTERN_VALGRIND_LOGS") or where
    return ["valgrind", "-q", "--trace-children=yes", "--error-exitcode=99",
            "--leak-check=no", "--track-fds=no",
            "--log-file=" + os.path.join(os.path.abspath(logs), "vg.%p.log")]


def run_postern(args, stdin=None, timeout=30):
    """Run a postern subcommand; returns CompletedProcess with text output."""
    return subprocess.run([POSTERN] + list(args), input=stdin,
                          capture_output=True, text=True, timeout=timeout)


def proc_stat(pid):
    """(ppid, pgrp, session, comm) of pid, or None."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read().decode("ascii", "replace")
    except OSError:
        return None
    rp = data.rfind(")")
    comm = data[data.find("(") + 1:rp]
    fields = data[rp + 2:].split()
    # fields[0]=state, [1]=ppid, [2]=pgrp, [3]=session
    if fields[0] == "Z":
        return None     # zombie: already dead, only not yet reaped
    return int(fields[1]), int(fields[2]), int(fields[3]), comm


def postern_pids_for(master_pid, conf_path):
    """Live (non-zombie) processes that belong to the server whose master was
    master_pid: same session or process group (we start it with setsid),
    children of the master, or a command line naming our config file."""
    out = []
    conf_b = conf_path.encode()
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        pid = int(d)
        st = proc_stat(pid)
        if st is None:
            continue
        ppid, pgrp, sid, comm = st
        mine = master_pid in (pgrp, sid, ppid) or pid == master_pid
        if not mine:
            try:
                with open("/proc/%d/cmdline" % pid, "rb") as f:
                    mine = conf_b in f.read()
            except OSError:
                mine = False
        if mine and pid != os.getpid():
            out.append(pid)
    return sorted(out)


class ServerError(Exception):
    pass


class Server:
    """One postern instance with its own config, users and spool."""

    def __init__(self, users=None, postmaster="alice", relay_rules=None,
                 max_message_size=1024000, listen=None, extra=None,
                 local_networks="127.0.0.1/32, ::1/128", omit=()):
        ensure_system_user()
        self.dir = tempfile.mkdtemp(prefix="postern-it-")
        os.chmod(self.dir, 0o700)
        self.conf = os.path.join(self.dir, "postern.conf")
        self.users_path = os.path.join(self.dir, "users")
        self.spool = os.path.join(self.dir, "spool")
        self.logpath = os.path.join(self.dir, "server.log")
        self.rules_path = os.path.join(self.dir, "relay_rules")
        self.host = "127.0.0.1"
        self.port = free_port(self.host)
        self.sink_port = free_port(self.host)
        self.listen = listen or "%s:%d" % (self.host, self.port)
        self.postmaster = postmaster
        self.relay_rules = relay_rules
        self.max_message_size = max_message_size
        self.local_networks = local_networks
        self.extra = list(extra or [])
        self.omit = set(omit)
        self.proc = None
        self.logfile = None
        self.starts = 0
        self._log_mark = 0
        self.fixed_port = listen is not None
        # A command that execs `postern serve ...` (its arguments appended),
        # e.g. setpriv or unshare: the process started stays the master.
        self.wrapper = []
        self.write_config()
        if users is None:
            users = {"alice": "alice-secret", "bob": "bob-secret"}
        for name, pw in users.items():
            r = self.user("add", name, pw)
            if r.returncode != 0:
                raise ServerError("user add %s failed (%d): %s%s"
                                  % (name, r.returncode, r.stdout, r.stderr))

    # -- configuration -------------------------------------------------
    def config_lines(self):
        kv = [
            ("hostname", "mx." + DOMAIN),
            ("local_domains", DOMAIN),
            ("local_networks", self.local_networks),
            ("users", self.users_path),
            ("spool", self.spool),
            ("listen_smtp", self.listen),
            ("postmaster", self.postmaster),
            ("max_message_size", str(self.max_message_size)),
        ]
        lines = ["# written by tests/integration/harness.py"]
        for k, v in kv:
            if k in self.omit or v is None:
                continue
            lines.append("%s = %s" % (k, v))
        if self.relay_rules is not None and "relay_rules" not in self.omit:
            with open(self.rules_path, "w") as f:
                f.write(self.relay_rules)
            lines.append("relay_rules = %s" % self.rules_path)
        if "route" not in self.omit:
            lines.append("route * = 127.0.0.1:%d" % self.sink_port)
        lines.extend(self.extra)
        return lines

    def write_config(self):
        with open(self.conf, "w") as f:
            f.write("\n".join(self.config_lines()) + "\n")

    def user(self, op, name, password=None, extra_args=()):
        """`postern user OP -c CONF NAME`, password on stdin; returns the
        CompletedProcess (the caller checks returncode)."""
        stdin = (password + "\n") if password is not None else ""
        r = run_postern(["user", op] + list(extra_args) + ["-c", self.conf, name],
                        stdin=stdin)
        return r

    # -- process -------------------------------------------------------
    def start(self, wait=True, timeout=10.0):
        """Start `postern serve`.  If the very first start of this Server
        loses its port to someone else (EADDRINUSE), pick another port and
        retry; a restart keeps its port (tests check that it can rebind) but
        retries briefly."""
        for attempt in range(4):
            try:
                return self._start(wait, timeout)
            except ServerError:
                if "Address already in use" not in self.log()[self._log_mark:] or attempt == 3:
                    raise
                self.emergency_cleanup()
                if self.starts == 1 and not self.fixed_port:
                    self.port = free_port(self.host)
                    self.listen = "%s:%d" % (self.host, self.port)
                    self.write_config()
                    self.starts = 0
                else:
                    time.sleep(0.5)

    def _start(self, wait, timeout):
        if self.proc is not None and self.proc.poll() is None:
            raise ServerError("already running")
        self._log_mark = len(self.log())
        self.logfile = open(self.logpath, "ab")
        self.starts += 1
        self.logfile.write(b"=== harness: start #%d at %.3f\n" % (self.starts, time.time()))
        self.logfile.flush()
        self.proc = subprocess.Popen(self.wrapper + valgrind_prefix(self.dir) +
                                     [POSTERN, "serve", "-c", self.conf],
                                     stdin=subprocess.DEVNULL,
                                     stdout=self.logfile, stderr=self.logfile,
                                     start_new_session=True)
        if wait:
            self.wait_listening(timeout)
        return self

    def wait_listening(self, timeout=10.0, host=None, port=None):
        host = host or self.host
        port = port or self.port
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise ServerError("postern serve exited with %r before listening"
                                  % self.proc.returncode)
            try:
                fam = socket.AF_INET6 if ":" in host else socket.AF_INET
                with socket.socket(fam, socket.SOCK_STREAM) as s:
                    s.settimeout(1.0)
                    s.connect((host, port))
                    # read the greeting so the session ends cleanly
                    try:
                        s.recv(512)
                        s.sendall(b"QUIT\r\n")
                    except OSError:
                        pass
                return
            except OSError:
                time.sleep(0.02)
        raise ServerError("postern serve not listening on %s:%d after %.1fs"
                          % (host, port, timeout))

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def pids(self):
        """Every live process of this server (master and children)."""
        if self.proc is None:
            return []
        return postern_pids_for(self.proc.pid, self.conf)

    def stop(self, timeout=5.0):
        """SIGTERM the master; returns (exited_in_time, seconds, returncode).
        Never leaves a process behind."""
        if self.proc is None:
            return True, 0.0, None
        if self.proc.poll() is not None:
            self._close_log()
            return True, 0.0, self.proc.returncode
        t0 = time.time()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
            ok = True
        except subprocess.TimeoutExpired:
            ok = False
            self.kill_group()
            rc = self.proc.returncode
        dt = time.time() - t0
        self._close_log()
        return ok, dt, rc

    def kill_master(self):
        """SIGKILL the master only; its children must exit by themselves."""
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(5)
        self._close_log()

    def kill_group(self):
        """SIGKILL the master's process group (and any straggler)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        for pid in postern_pids_for(self.proc.pid, self.conf):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self._close_log()

    def wait_no_processes(self, timeout=1.0):
        """True if no process of this server is alive within timeout."""
        deadline = time.time() + timeout
        while True:
            left = self.pids()
            if not left:
                return True, []
            if time.time() >= deadline:
                return False, left
            time.sleep(0.02)

    def _close_log(self):
        if self.logfile is not None:
            try:
                self.logfile.flush()
                self.logfile.close()
            except OSError:
                pass
            self.logfile = None

    def emergency_cleanup(self):
        """Kill anything left (used after a test, whatever happened)."""
        if self.proc is not None:
            if self.proc.poll() is None or self.pids():
                self.kill_group()
        self._close_log()

    def remove(self):
        if os.environ.get("POSTERN_KEEP"):
            sys.stderr.write("harness: kept %s\n" % self.dir)
            return
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- logs ------------------------------------------------------------
    def log(self):
        try:
            with open(self.logpath, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def wait_log(self, pattern, timeout=5.0):
        """Wait for a regex to appear in the log; returns the match or None."""
        rx = re.compile(pattern)
        deadline = time.time() + timeout
        while True:
            m = rx.search(self.log())
            if m or time.time() >= deadline:
                return m
            time.sleep(0.05)

    def dump_log(self, why=""):
        sys.stderr.write("\n----- postern log %s(%s) -----\n" % (why, self.logpath))
        text = self.log()
        if len(text) > 40000:
            text = "[... %d bytes cut ...]\n" % (len(text) - 40000) + text[-40000:]
        sys.stderr.write(text)
        sys.stderr.write("----- end of postern log -----\n")

    # -- spool -------------------------------------------------------------
    def queue_dir(self):
        return os.path.join(self.spool, "queue")

    def queue_ids(self):
        try:
            return sorted(n for n in os.listdir(self.queue_dir()) if not n.startswith("."))
        except FileNotFoundError:
            return []

    def queue_file(self, qid):
        with open(os.path.join(self.queue_dir(), qid), "rb") as f:
            return f.read()

    def queue_files(self):
        out = {}
        for q in self.queue_ids():
            try:
                out[q] = self.queue_file(q)
            except FileNotFoundError:
                pass
        return out

    def incoming_ids(self):
        try:
            return sorted(os.listdir(os.path.join(self.spool, "incoming")))
        except FileNotFoundError:
            return []

    def maildir(self, user):
        return os.path.join(self.spool, "mail", user, "Maildir")

    def mails(self, user, subdirs=("new", "cur")):
        """{relative name: bytes} of delivered messages of a user."""
        out = {}
        for sub in subdirs:
            d = os.path.join(self.maildir(user), sub)
            try:
                names = os.listdir(d)
            except FileNotFoundError:
                continue
            for n in names:
                try:
                    with open(os.path.join(d, n), "rb") as f:
                        out[sub + "/" + n] = f.read()
                except FileNotFoundError:
                    pass
        return out

    def wait_mails(self, user, count=1, timeout=5.0, match=None):
        """Wait until `user` has at least count messages (containing the
        bytes `match` if given); returns the list of their contents."""
        deadline = time.time() + timeout
        while True:
            got = [v for v in self.mails(user).values() if match is None or match in v]
            if len(got) >= count or time.time() >= deadline:
                return got
            time.sleep(0.05)

    def wait_queue_empty(self, timeout=10.0):
        deadline = time.time() + timeout
        while True:
            q = self.queue_ids()
            if not q or time.time() >= deadline:
                return q
            time.sleep(0.05)

    # -- clients -------------------------------------------------------------
    def smtp(self, source="127.0.0.1", ehlo=True, timeout=10):
        import smtplib
        s = smtplib.SMTP(self.host, self.port, local_hostname="client.test",
                         source_address=(source, 0), timeout=timeout)
        if ehlo:
            code, _ = s.ehlo()
            if code != 250:
                raise ServerError("EHLO got %d" % code)
        return s

    def raw(self, source="127.0.0.1", timeout=5.0):
        return RawClient(self.host, self.port, source=source, timeout=timeout)


class RawClient:
    """A bare socket SMTP client that sees every byte and every reply."""

    def __init__(self, host, port, source="127.0.0.1", timeout=5.0):
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        if source:
            self.sock.bind((source, 0))
        self.sock.connect((host, port))
        self.buf = b""
        self.closed = False
        self.timeout = timeout

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def _fill(self, timeout):
        self.sock.settimeout(timeout)
        try:
            d = self.sock.recv(65536)
        except socket.timeout:
            return False
        except ConnectionResetError:
            self.closed = True
            return False
        if not d:
            self.closed = True
            return False
        self.buf += d
        return True

    def _take_reply(self):
        """One complete reply from buf, or None: (code, [lines], raw)."""
        pos = 0
        lines = []
        while True:
            nl = self.buf.find(b"\r\n", pos)
            if nl < 0:
                return None
            line = self.buf[pos:nl]
            lines.append(line)
            pos = nl + 2
            if len(line) < 4 or line[3:4] != b"-":
                raw = self.buf[:pos]
                self.buf = self.buf[pos:]
                try:
                    code = int(line[:3])
                except ValueError:
                    code = -1
                return code, lines, raw

    def reply(self, timeout=None):
        """Read one reply; returns (code, text) or raises on timeout/EOF."""
        timeout = self.timeout if timeout is None else timeout
        deadline = time.time() + timeout
        while True:
            r = self._take_reply()
            if r is not None:
                code, lines, raw = r
                return code, b"\n".join(l[4:] for l in lines).decode("latin-1")
            left = deadline - time.time()
            if left <= 0:
                raise TimeoutError("no reply within %.1fs (buffer %r)" % (timeout, self.buf))
            if not self._fill(left):
                if self.closed:
                    raise ConnectionError("connection closed (buffer %r)" % self.buf)

    def cmd(self, line, timeout=None):
        if isinstance(line, str):
            line = line.encode()
        self.send(line + b"\r\n")
        return self.reply(timeout)

    def replies_for(self, seconds):
        """Every reply that arrives within `seconds` (stops early at EOF)."""
        out = []
        deadline = time.time() + seconds
        while True:
            r = self._take_reply()
            while r is not None:
                out.append((r[0], b"\n".join(l[4:] for l in r[1]).decode("latin-1")))
                r = self._take_reply()
            left = deadline - time.time()
            if left <= 0 or self.closed:
                return out
            self._fill(left)

    def wait_closed(self, timeout=3.0):
        """True if the server closes the connection within timeout.
        Any bytes that arrive meanwhile stay in buf."""
        deadline = time.time() + timeout
        while not self.closed:
            left = deadline - time.time()
            if left <= 0:
                return False
            self._fill(left)
        return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class PosternTestCase(unittest.TestCase):
    """A TestCase whose servers are stopped (SIGTERM, must exit within 5 s)
    after each test; their logs are printed when the test fails."""

    maxDiff = 4000

    def run(self, result=None):
        if result is None:
            result = self.defaultTestResult()
        self._servers = []
        before = len(result.failures) + len(result.errors)
        try:
            return super().run(result)
        finally:
            failed = len(result.failures) + len(result.errors) > before
            for s in self._servers:
                s.emergency_cleanup()
                if failed or os.environ.get("POSTERN_LOG"):
                    s.dump_log("for %s " % self.id())
                s.remove()

    def server(self, start=True, **kw):
        s = Server(**kw)
        self._servers.append(s)
        if start:
            s.start()
        self.addCleanup(self._stop_checked, s)
        return s

    def _stop_checked(self, s):
        if s.proc is None or s.proc.poll() is not None:
            s.emergency_cleanup()
            return
        ok, dt, rc = s.stop(5.0)
        self.assertTrue(ok, "postern did not exit within 5 s of SIGTERM")
        gone, left = s.wait_no_processes(1.0)
        self.assertTrue(gone, "postern processes left after SIGTERM: %r" % left)

    # -- helpers used by several test files ------------------------------
    def assertNoRemoteQueued(self, srv, domain=b"example.net"):
        for qid, data in srv.queue_files().items():
            self.assertNotIn(domain, data.split(b"\n\n", 1)[0],
                             "queue file %s routes to %s:\n%r" % (qid, domain, data[:600]))

    def assertQueueEmpty(self, srv, settle=0.3):
        time.sleep(settle)
        self.assertEqual(srv.queue_ids(), [], "queue not empty")


def split_delivered(data):
    """Split a delivered Maildir file into (return_path_line, delivered_to
    line, received header (unfolded raw bytes), rest).  Raises ValueError
    when the trace headers are not as documented."""
    lines = data.split(b"\r\n", 2)
    if len(lines) < 3:
        raise ValueError("too short: %r" % data[:200])
    rp, dt, rest = lines
    if not rp.startswith(b"Return-Path: <"):
        raise ValueError("first line is not Return-Path: %r" % rp)
    if not dt.startswith(b"Delivered-To: "):
        raise ValueError("second line is not Delivered-To: %r" % dt)
    if not rest.startswith(b"Received: "):
        raise ValueError("third header is not Received: %r" % rest[:100])
    pos = 0
    while True:
        nl = rest.find(b"\r\n", pos)
        if nl < 0:
            raise ValueError("Received header not terminated by CRLF")
        pos = nl + 2
        if rest[pos:pos + 1] not in (b" ", b"\t"):
            break
    received = rest[:pos]
    if b"\n" in received.replace(b"\r\n", b""):
        raise ValueError("bare LF in Received header: %r" % received)
    return rp, dt, received, rest[pos:]
