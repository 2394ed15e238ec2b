#!/usr/bin/env python3
"""bench - postern side by side with Postfix, smtp-sink and Dovecot.

Run by bench/run.sh (`make bench`, `make bench QUICK=1`), as root, loopback
only. Every server is a private instance in one temporary directory:
postern from this tree, Postfix from a config_directory/queue_directory of
its own (postfix -c DIR), Postfix's smtp-sink (no disk at all: the ceiling
of the SMTP dialogue), Dovecot from `dovecot -c FILE` with its own base_dir.
All of them are stopped and the directory removed at the end, whatever
happens.

Scenario groups (BENCH_ONLY=a,b / BENCH_SKIP=a,b choose among them):
  fsync      the disk under the spool: write+fdatasync ops/s from 1 thread
             and from 4 threads (does the journal commit them together?).
  smtp       smtp-source loads (SMTP_LOADS: 2 KB at 1, 20, 100 clients and
             100 KB at 20) against postern, Postfix and smtp-sink: rate
             until the last 250 and until the last file is in the Maildir,
             CPU seconds, peak memory; memory of each server idle.
  idle       IDLE_SESSIONS SMTP sessions past their greeting, silent.
  pop3       logins/s (USER/PASS and APOP, 1 and 10 clients) and RETR
             throughput against Dovecot, the same files and hashes.
  imap       logins/s (1 and 10 clients), FETCH of an IMAP_FOLDER-message
             folder, memory of IMAP_IDLE sessions in IDLE, against
             Dovecot; postern's rows only when its config knows listen_imap.
  verify     incoming verification: the same dkimpy-signed messages from
             a stranger (local_networks leaves loopback out) with
             verify_incoming off and on (SPF, DKIM, DMARC against a
             loopback dnsmasq; VERIFY_LOADS), msgs/s and the ratio on/off.
  callgrind  instructions per received message of postern's smtpd under
             valgrind --tool=callgrind (CALLGRIND_MSGS at 1 client): the
             stable regression figure.

Ratios are postern / reference (Postfix for SMTP, Dovecot for POP3/IMAP),
measured in the same run: rates > 1 and times/CPU/memory < 1 favour
postern. Results: bench/results/bench-STAMP.txt and .json.

Environment: QUICK=1 small counts (under 3 minutes);  BENCH_KEEP=1 keep
the temporary directory.
"""
import base64
import itertools
import json
import os
import pwd
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from hashlib import md5

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
POSTERN = os.environ.get("BENCH_POSTERN") or os.path.join(REPO, "postern")
HZ = os.sysconf("SC_CLK_TCK")
DOMAIN = "bench.test"
RCPT = "user@" + DOMAIN
NOBODY = 65534
QUICK = os.environ.get("QUICK", "") not in ("", "0")
GROUPS = ("fsync", "smtp", "idle", "pop3", "imap", "verify", "callgrind")


def sized(full, quick):
    return quick if QUICK else full


# (messages, bytes per message, concurrent clients)
SMTP_LOADS = [(sized(20000, 300), 2048, 1), (sized(20000, 1000), 2048, 20),
              (sized(20000, 1000), 2048, 100), (sized(2000, 100), 102400, 20)]
IDLE_SESSIONS = sized(1000, 200)
FSYNC_SECONDS = sized(5.0, 1.0)
LOGIN_SECONDS = sized(10.0, 2.0)
LOGIN_CLIENTS = (1, 10)
POP_USERS, POP_MSGS, POP_ROUNDS, POP_LEN = 20, 100, sized(3, 1), 4096
IMAP_FOLDER, IMAP_MSG_LEN = 5000, 2048
IMAP_IDLE = sized(1000, 100)
CALLGRIND_MSGS = sized(1000, 200)
# (messages, concurrent clients) of the verification rows (2 KB each)
VERIFY_LOADS = [(sized(5000, 300), 1), (sized(5000, 500), 20)]
VERIFY_DOMAIN = "sender.bench.example"
VERIFY_HELO = "client." + VERIFY_DOMAIN
VERIFY_TTL = 300


def wanted(group):
    only = set(filter(None, os.environ.get("BENCH_ONLY", "").split(",")))
    skip = set(filter(None, os.environ.get("BENCH_SKIP", "").split(",")))
    return (not only or group in only) and group not in skip


def log(msg):
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


def free_port():
    """A free port outside the kernel's ephemeral range: the scenarios open
    thousands of client connections, whose source ports must not take the
    port of a server that starts later."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = map(int, f.read().split())
    except (OSError, ValueError):
        lo, hi = 32768, 60999
    for _ in range(200):
        port = random.randrange(10000, 65000)
        if lo <= port <= hi:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=20.0, banner=b"", bye=b"QUIT\r\n"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), 1.0) as s:
                s.settimeout(2.0)
                if s.recv(512).startswith(banner):
                    s.sendall(bye)
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("nothing answers on 127.0.0.1:%d" % port)


# ---- processes ---------------------------------------------------------

def stat_of(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            data = f.read()
    except OSError:
        return None
    f = data[data.rfind(")") + 2:].split()
    # f[1] ppid, f[11..14] utime stime cutime cstime
    return int(f[1]), int(f[11]), int(f[12]), int(f[13]), int(f[14])


def tree(root):
    """root and all its live descendants."""
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = stat_of(int(d))
            if st:
                kids.setdefault(st[0], []).append(int(d))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def cpu_seconds(root):
    """CPU of root's tree so far, children that were reaped included."""
    t = 0
    for p in tree(root):
        st = stat_of(p)
        if st:
            t += st[1] + st[2] + st[3] + st[4]
    return t / float(HZ)


def status_kib(pid, key):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def pss_kib(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def memory(root):
    """(processes, sum of RSS KiB, sum of PSS KiB) of root's tree."""
    pids = tree(root)
    return (len(pids), sum(status_kib(p, "VmRSS") for p in pids),
            sum(pss_kib(p) for p in pids))


class Sampler(threading.Thread):
    """Peak of the tree's summed RSS and PSS, sampled every `every` s."""

    def __init__(self, root, every=0.25):
        super().__init__(daemon=True)
        self.root, self.every = root, every
        self.peak_rss = self.peak_pss = self.peak_procs = 0
        self.stop_ev = threading.Event()

    def run(self):
        while not self.stop_ev.is_set():
            n, rss, pss = memory(self.root)
            self.peak_procs = max(self.peak_procs, n)
            self.peak_rss = max(self.peak_rss, rss)
            self.peak_pss = max(self.peak_pss, pss)
            self.stop_ev.wait(self.every)

    def stop(self):
        self.stop_ev.set()
        self.join()


def count_files(d):
    n = 0
    for sub in ("new", "cur"):
        try:
            n += len(os.listdir(os.path.join(d, sub)))
        except FileNotFoundError:
            pass
    return n


def wait_count(d, n, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if count_files(d) >= n:
            return time.time()
        time.sleep(0.02)
    raise RuntimeError("%s: %d of %d messages after %.0f s"
                       % (d, count_files(d), n, timeout))


def clear_maildir(md):
    for sub in ("new", "cur", "tmp"):
        d = os.path.join(md, sub)
        if os.path.isdir(d):
            for n in os.listdir(d):
                os.unlink(os.path.join(d, n))


def kill_tree(root):
    for p in tree(root) if stat_of(root) else []:
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass


def wait_gone(pid, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline and stat_of(pid):
        time.sleep(0.1)
    return not stat_of(pid)


# ---- the servers ---------------------------------------------------------
# Each: name, root (pid of the process tree measured), port (SMTP) or
# pop_port/imap_port, maildir(user), start(), stop().

class Postern:
    def __init__(self, root, name="postern", wrapper=(), imap=False,
                 extra=()):
        """extra: "key = value" lines that replace the default of their
        key or are added."""
        self.name, self.wrapper = name, list(wrapper)
        self.dir = os.path.join(root, name)
        os.makedirs(self.dir)
        self.conf = os.path.join(self.dir, "postern.conf")
        self.spool = os.path.join(self.dir, "spool")
        self.port, self.pop_port = free_port(), free_port()
        self.imap_port = free_port() if imap else None
        lines = [
            "hostname = postern.bench.local",
            "local_domains = " + DOMAIN,
            # the client is local: no per-client limit in the way
            "local_networks = 127.0.0.0/8",
            "users = " + os.path.join(self.dir, "users"),
            "spool = " + self.spool,
            "listen_smtp = 127.0.0.1:%d" % self.port,
            "listen_pop3 = 127.0.0.1:%d" % self.pop_port,
            "pop3_auth = any",
            "max_message_size = 60000000",
            "max_sessions = %d" % (max(IDLE_SESSIONS, IMAP_IDLE) + 100)]
        if imap:
            lines.append("listen_imap = 127.0.0.1:%d" % self.imap_port)
        for e in extra:
            key = e.split("=", 1)[0].strip()
            lines = [ln for ln in lines
                     if ln.split("=", 1)[0].strip() != key] + [e]
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.proc = self.logf = self.root = None
        self.hashes = {}

    def add_user(self, name, password, apop=False):
        cmd = [POSTERN, "user", "add", "-c", self.conf] + \
            (["--apop"] if apop else []) + [name]
        r = subprocess.run(cmd, input=password + "\n", text=True,
                           capture_output=True)
        if r.returncode != 0:
            raise RuntimeError("postern user add: " + r.stderr)
        with open(os.path.join(self.dir, "users")) as f:
            for line in f:
                parts = line.rstrip("\n").split(":")
                if parts[0] == name:
                    self.hashes[name] = parts[1]

    def maildir(self, user="user"):
        return os.path.join(self.spool, "mail", user, "Maildir")

    def start(self, timeout=20.0):
        self.logf = open(os.path.join(self.dir, "server.log"), "ab")
        self.proc = subprocess.Popen(
            self.wrapper + [POSTERN, "serve", "-c", self.conf],
            stdin=subprocess.DEVNULL, stdout=self.logf, stderr=self.logf,
            start_new_session=True)
        wait_port(self.port, timeout, banner=b"220")
        self.root = self.proc.pid

    def smtpd_pid(self):
        with open(os.path.join(self.dir, "server.log")) as f:
            m = re.findall(r"postern/smtpd\[(\d+)\]: ready", f.read())
        return int(m[-1])

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60 if self.wrapper else 10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        self.logf.close()
        self.root = None


def postern_has_imap():
    """Whether this postern serves IMAP: `postern check` of the bench's own
    config with listen_imap either passes or fails on that key (any other
    failure is the harness's and stops the run)."""
    d = tempfile.mkdtemp(prefix="postern-bench-probe-")
    try:
        probe = Postern(d, imap=True)
        open(os.path.join(probe.dir, "users"), "w").close()
        r = subprocess.run([POSTERN, "check", "-c", probe.conf],
                           capture_output=True, text=True)
        if r.returncode == 0:
            return True
        if "listen_imap" in r.stderr:
            return False
        raise RuntimeError("postern check of the bench config: " + r.stderr)
    finally:
        shutil.rmtree(d, ignore_errors=True)


POSTFIX_MASTER = """\
127.0.0.1:{port} inet n - n - {maxproc} smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000 0 flush
proxymap  unix  - - n - - proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
local     unix  - n n - - local
virtual   unix  - n n - - virtual
lmtp      unix  - - n - - lmtp
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
"""


class Postfix:
    """A private Postfix: its own config and queue directory, smtpd on a
    loopback port, virtual(8) delivery into DIR/mail/user/Maildir/ (the
    same Maildir writing as local(8) with home_mailbox = Maildir/, without
    creating a system user for the run). Defaults otherwise (fsync on);
    smtpd's maxproc is raised so the idle sessions each get a process."""
    name = "postfix"

    def __init__(self, root):
        self.dir = os.path.join(root, "postfix")
        self.conf = os.path.join(self.dir, "conf")
        os.makedirs(self.conf)
        for sub in ("queue", "data", "mail/user"):
            os.makedirs(os.path.join(self.dir, sub))
        pf = pwd.getpwnam("postfix")
        os.chown(os.path.join(self.dir, "data"), pf.pw_uid, pf.pw_gid)
        for d in ("mail", "mail/user"):
            os.chown(os.path.join(self.dir, d), NOBODY, NOBODY)
        self.port = free_port()
        d = self.dir
        with open(os.path.join(self.conf, "main.cf"), "w") as f:
            f.write("\n".join([
                "compatibility_level = 3.6",
                "queue_directory = %s/queue" % d,
                "data_directory = %s/data" % d,
                "maillog_file = %s/maillog" % d,
                "maillog_file_prefixes = %s" % d,
                "inet_interfaces = 127.0.0.1",
                "inet_protocols = ipv4",
                "myhostname = postfix.bench.local",
                "mydomain = bench.local",
                "mydestination =",
                "mynetworks = 127.0.0.0/8",
                "relayhost =",
                "smtpd_peername_lookup = no",
                "virtual_mailbox_domains = " + DOMAIN,
                "virtual_mailbox_base = %s/mail" % d,
                "virtual_mailbox_maps = inline:{ %s=user/Maildir/ }" % RCPT,
                "virtual_uid_maps = static:%d" % NOBODY,
                "virtual_gid_maps = static:%d" % NOBODY,
                "virtual_mailbox_limit = 0",
                "message_size_limit = 60000000",
                ""]))
        with open(os.path.join(self.conf, "master.cf"), "w") as f:
            f.write(POSTFIX_MASTER.format(port=self.port,
                                          maxproc=IDLE_SESSIONS + 100))
        self.root = None

    def maildir(self, user="user"):
        return os.path.join(self.dir, "mail", user, "Maildir")

    def start(self):
        with open(os.path.join(self.dir, "start.log"), "ab") as lf:
            r = subprocess.run(["postfix", "-c", self.conf, "start"],
                               stdin=subprocess.DEVNULL, stdout=lf, stderr=lf)
        if r.returncode != 0:
            raise RuntimeError("postfix start failed (see %s/maillog)"
                               % self.dir)
        wait_port(self.port, banner=b"220")
        with open(os.path.join(self.dir, "queue/pid/master.pid")) as f:
            self.root = int(f.read().split()[0])

    def stop(self):
        if self.root is None:
            return
        subprocess.run(["postfix", "-c", self.conf, "stop"],
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        if not wait_gone(self.root, 10):
            kill_tree(self.root)
        self.root = None


class Sink:
    """Postfix's smtp-sink: answers the whole dialogue, writes nothing.
    Its rate is the ceiling of the client and the loopback; it has no
    Maildir ("delivered" does not apply)."""
    name = "smtp-sink"

    def __init__(self, root):
        self.dir = os.path.join(root, "sink")
        os.makedirs(self.dir)
        self.port = free_port()
        self.proc = self.root = None

    def maildir(self, user="user"):
        return None

    def start(self):
        self.proc = subprocess.Popen(
            ["smtp-sink", "-u", "postfix", "127.0.0.1:%d" % self.port, "1024"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)
        wait_port(self.port, banner=b"220")
        self.root = self.proc.pid

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.root = None


DOVECOT_CONF = """\
base_dir = {d}/run
log_path = {d}/dovecot.log
protocols = {protocols}
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain apop
mail_location = maildir:~/Maildir
first_valid_uid = 1
default_process_limit = {procs}
default_client_limit = {clients}
passdb {{
  driver = passwd-file
  args = {d}/passwd
}}
userdb {{
  driver = passwd-file
  args = {d}/passwd
}}
protocol pop3 {{
  mail_max_userip_connections = {procs}
}}
protocol imap {{
  mail_max_userip_connections = {procs}
}}
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {pop_port}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


def dovecot_has(protocol):
    """Whether Dovecot's server for protocol (dovecot-pop3d,
    dovecot-imapd) is installed."""
    return shutil.which("dovecot") is not None and \
        os.path.exists("/usr/lib/dovecot/" + protocol)


class Dovecot:
    """A private Dovecot (POP3, and IMAP when dovecot-imapd is installed)
    with its own base_dir. USER/PASS and LOGIN check the same yescrypt
    hashes postern checks ({CRYPT}); APOP needs the secret in clear, as
    postern's `user add --apop` keeps it ({PLAIN}). Defaults otherwise
    (one login process per connection, no auth cache); process and
    per-user connection limits raised for the idle sessions."""
    name = "dovecot"

    def __init__(self, root, hashes, plain):
        self.dir = os.path.join(root, "dovecot")
        os.makedirs(os.path.join(self.dir, "run"))
        os.makedirs(os.path.join(self.dir, "mail"))
        os.chown(os.path.join(self.dir, "mail"), NOBODY, NOBODY)
        self.pop_port, self.imap_port = free_port(), free_port()
        d = self.dir
        with open(os.path.join(d, "passwd"), "w") as f:
            secrets = [(u, "{CRYPT}" + h) for u, h in sorted(hashes.items())]
            secrets += [(u, "{PLAIN}" + p) for u, p in sorted(plain.items())]
            for u, s in secrets:
                f.write("%s:%s:%d:%d::%s/mail/%s::\n"
                        % (u, s, NOBODY, NOBODY, d, u))
        self.conf = os.path.join(d, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write(DOVECOT_CONF.format(
                d=d, pop_port=self.pop_port, imap_port=self.imap_port,
                protocols=" ".join(p for p in ("pop3", "imap")
                                   if dovecot_has(p)),
                procs=IMAP_IDLE + 100, clients=4 * (IMAP_IDLE + 100)))
        self.root = None

    def maildir(self, user):
        return os.path.join(self.dir, "mail", user, "Maildir")

    def start(self):
        # Not through pipes: the daemon keeps its stderr open.
        with open(os.path.join(self.dir, "start.log"), "ab") as lf:
            r = subprocess.run(["dovecot", "-c", self.conf],
                               stdin=subprocess.DEVNULL, stdout=lf, stderr=lf)
        if r.returncode != 0:
            raise RuntimeError("dovecot failed, see %s/start.log" % self.dir)
        wait_port(self.pop_port, banner=b"+OK")
        with open(os.path.join(self.dir, "run", "master.pid")) as f:
            self.root = int(f.read().split()[0])

    def stop(self):
        if self.root is None:
            return
        try:
            os.kill(self.root, signal.SIGTERM)
        except OSError:
            pass
        if not wait_gone(self.root, 10):
            kill_tree(self.root)
        self.root = None


# ---- clients -----------------------------------------------------------------

class Conn:
    """A line-oriented client connection (POP3, IMAP)."""

    def __init__(self, port, timeout=60, source="127.0.0.1"):
        self.s = socket.create_connection(("127.0.0.1", port), timeout,
                                          source_address=(source, 0))
        self.f = self.s.makefile("rb")

    def line(self):
        ln = self.f.readline()
        if not ln:
            raise RuntimeError("connection closed")
        return ln

    def send(self, data):
        self.s.sendall(data + b"\r\n")

    def close(self):
        self.f.close()
        self.s.close()


def pop3_cmd(c, line):
    c.send(line)
    r = c.line()
    if not r.startswith(b"+OK"):
        raise RuntimeError("POP3 %r -> %r" % (line.split()[0], r))
    return r


def client_address(i):
    """Client i's own loopback address: concurrent clients are different
    hosts, as in real use (postern's auth lets a few checks of one
    address run at a time; Dovecot limits connections per user and IP)."""
    return "127.0.%d.%d" % (1 + i // 250, 1 + i % 250)


def pop3_login(port, user, password, source, apop=False):
    """One POP3 session: greeting, USER/PASS or APOP, QUIT."""
    c = Conn(port, source=source)
    try:
        greeting = c.line()
        if apop:
            m = re.search(rb"<[^>]+>", greeting)
            if not m:
                raise RuntimeError("no APOP timestamp in %r" % greeting)
            digest = md5(m.group(0) + password.encode()).hexdigest()
            pop3_cmd(c, b"APOP %s %s" % (user.encode(), digest.encode()))
        else:
            pop3_cmd(c, b"USER " + user.encode())
            pop3_cmd(c, b"PASS " + password.encode())
        pop3_cmd(c, b"QUIT")
    finally:
        c.close()


def pop3_retr_all(port, user, password, source):
    """USER/PASS, STAT, RETR 1..n, QUIT; returns n."""
    c = Conn(port, source=source)
    try:
        c.line()
        pop3_cmd(c, b"USER " + user.encode())
        pop3_cmd(c, b"PASS " + password.encode())
        n = int(pop3_cmd(c, b"STAT").split()[1])
        for i in range(1, n + 1):
            pop3_cmd(c, b"RETR %d" % i)
            while c.line() != b".\r\n":
                pass
        pop3_cmd(c, b"QUIT")
        return n
    finally:
        c.close()


LITERAL = re.compile(rb"\{(\d+)\}\r\n$")


def imap_cmd(c, tag, command, collect=None):
    """Sends TAG COMMAND, reads to the tagged reply (literals skipped as
    data, not read as lines); returns (untagged responses, literal bytes).
    collect: a list that gets each untagged response's first line."""
    c.send(tag + b" " + command)
    untagged = literal = 0
    while True:
        ln = c.line()
        m = LITERAL.search(ln)
        while m:
            n = int(m.group(1))
            literal += n
            c.f.read(n)
            ln = c.line()
            m = LITERAL.search(ln)
        if ln.startswith(tag + b" "):
            if not ln.startswith(tag + b" OK"):
                raise RuntimeError("IMAP %r -> %r" % (command.split()[0], ln))
            return untagged, literal
        untagged += 1
        if collect is not None:
            collect.append(ln)


def imap_open(port, user, password, source="127.0.0.1"):
    c = Conn(port, source=source)
    if not c.line().startswith(b"* OK"):
        raise RuntimeError("no IMAP greeting")
    imap_cmd(c, b"L", b"LOGIN %s %s" % (user.encode(), password.encode()))
    return c


def imap_login(port, user, password, source):
    c = imap_open(port, user, password, source)
    try:
        imap_cmd(c, b"Q", b"LOGOUT")
    finally:
        c.close()


def smtp_source(port, msgs, sess, length, timeout,
                sender="sender@example.org", options=()):
    """options with -F FILE: that message, not length bytes of filler."""
    size = [] if "-F" in options else ["-l", str(length)]
    cmd = ["smtp-source", "-m", str(msgs), "-s", str(sess)] + size + [
        "-f", sender, "-t", RCPT] + list(options) + ["127.0.0.1:%d" % port]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError("smtp-source: %s %s" % (r.stdout, r.stderr))


def parallel(n, fn):
    """fn(i) in n threads; the first error is raised."""
    errors = []

    def run(i):
        try:
            fn(i)
        except Exception as e:  # noqa: reported below
            errors.append(e)
    th = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in th:
        t.start()
    for t in th:
        t.join()
    if errors:
        raise errors[0]


class Measure:
    """Wall time, CPU of the server's tree and its peak memory over a block:
    with Measure(srv) as m: ...; then m.result()."""

    def __init__(self, srv, every=0.25):
        self.srv, self.every = srv, every

    def __enter__(self):
        self.cpu0 = cpu_seconds(self.srv.root)
        self.sampler = Sampler(self.srv.root, self.every)
        self.sampler.start()
        self.t0 = time.time()
        return self

    def __exit__(self, *exc):
        self.seconds = time.time() - self.t0
        self.sampler.stop()
        self.cpu = cpu_seconds(self.srv.root) - self.cpu0
        return False

    def result(self, **extra):
        r = {"seconds": self.seconds, "cpu_s": self.cpu,
             "peak_rss_kib": self.sampler.peak_rss,
             "peak_pss_kib": self.sampler.peak_pss,
             "peak_procs": self.sampler.peak_procs}
        r.update(extra)
        return r


# ---- scenarios -----------------------------------------------------------------

def scenario_fsync(directory, threads, seconds=FSYNC_SECONDS):
    """Appends of 2 KiB, each followed by fdatasync (the size changes: the
    journal commits each one), from `threads` threads on files of their own
    in `directory`. Returns ops/s of all threads together."""
    counts = [0] * threads
    deadline = time.time() + seconds
    block = b"x" * 2048

    def loop(i):
        path = os.path.join(directory, "fsync-%d" % i)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            while time.time() < deadline:
                os.write(fd, block)
                os.fdatasync(fd)
                counts[i] += 1
        finally:
            os.close(fd)
            os.unlink(path)
    t0 = time.time()
    parallel(threads, loop)
    return {"threads": threads, "ops": sum(counts),
            "ops_per_s": sum(counts) / (time.time() - t0)}


def clients_text(n):
    return "%d client%s" % (n, "" if n == 1 else "s")


def load_label(msgs, length, clients):
    return "%d x %s, %s" % (msgs, kb(length), clients_text(clients))


def kb(n):
    return "%d KB" % (n // 1024)


def scenario_smtp_load(srv, msgs, length, clients, **source):
    """smtp-source into srv: time to the last 250 and (with a Maildir) to
    the last file in it. source: more smtp_source() arguments."""
    md = srv.maildir()
    before = count_files(md) if md else 0
    timeout = 120 + msgs / 20.0
    with Measure(srv) as m:
        smtp_source(srv.port, msgs, clients, length, timeout, **source)
        t_acc = time.time() - m.t0
        if md:
            wait_count(md, before + msgs, timeout)
    res = m.result(accept_s=t_acc, accepted_per_s=msgs / t_acc)
    if md:
        res.update(deliver_s=m.seconds, delivered_per_s=msgs / m.seconds)
        clear_maildir(md)
    if isinstance(srv, Postern):
        res["smtpd_hwm_kib"] = status_kib(srv.smtpd_pid(), "VmHWM")
    return res


def scenario_memory_idle(srv):
    time.sleep(0.5)
    procs, rss, pss = memory(srv.root)
    return {"procs": procs, "rss_kib": rss, "pss_kib": pss}


def hold_sessions(srv, n, open_one):
    """Opens n sessions with open_one() (each left waiting), measures the
    server's memory, closes them."""
    held = []
    try:
        for _ in range(n):
            held.append(open_one())
        time.sleep(0.5)
        procs, rss, pss = memory(srv.root)
        return {"sessions": n, "procs": procs, "rss_kib": rss, "pss_kib": pss}
    finally:
        for c in held:
            c.close()


def scenario_smtp_idle(srv, n=IDLE_SESSIONS):
    """n SMTP sessions past their greeting, silent; then one message still
    goes through."""
    def greeted():
        s = socket.create_connection(("127.0.0.1", srv.port), 120)
        if not s.recv(512).startswith(b"220"):
            raise RuntimeError("%s: no greeting in the idle test" % srv.name)
        return s
    res = hold_sessions(srv, n, greeted)
    if isinstance(srv, Postern):
        res["smtpd_rss_kib"] = status_kib(srv.smtpd_pid(), "VmRSS")
    smtp_source(srv.port, 1, 1, 1024, 60)
    return res


def scenario_logins(srv, login, port, users, clients, seconds=LOGIN_SECONDS):
    """clients threads, each logging in and out as its own user from its
    own address (login(port, user, password, source)) until the time is
    up."""
    counts = [0] * clients
    with Measure(srv) as m:
        deadline = m.t0 + seconds

        def loop(i):
            u = users[i % len(users)]
            while time.time() < deadline:
                login(port, u, "pw-" + u, client_address(i))
                counts[i] += 1
        parallel(clients, loop)
    return m.result(logins=sum(counts), logins_per_s=sum(counts) / m.seconds)


def scenario_pop3_retr(srv, users):
    retrs = [0] * len(users)

    def client(i):
        for _ in range(POP_ROUNDS):
            retrs[i] += pop3_retr_all(srv.pop_port, users[i], "pw-" + users[i],
                                      client_address(i))
    with Measure(srv, 0.2) as m:
        parallel(len(users), client)
    return m.result(retrs=sum(retrs), retr_per_s=sum(retrs) / m.seconds)


def scenario_imap_fetch(srv, user):
    """SELECT of the IMAP_FOLDER-message INBOX (the first: indexes are
    built), then the whole folder's flags and sizes, then every body."""
    c = imap_open(srv.imap_port, user, "pw-" + user)
    res = {}
    try:
        steps = [("select_s", b"SELECT INBOX"),
                 ("flags_s", b"UID FETCH 1:* (FLAGS RFC822.SIZE)"),
                 ("bodies_s", b"FETCH 1:* BODY.PEEK[]")]
        with Measure(srv, 0.1) as m:
            for i, (key, command) in enumerate(steps):
                selected = [] if key == "select_s" else None
                t0 = time.time()
                n, octets = imap_cmd(c, b"F%d" % i, command, selected)
                res[key] = time.time() - t0
                if key == "bodies_s":
                    res["body_bytes"] = octets
                if selected is not None:
                    n = max([int(x.split()[1]) for x in selected
                             if x.rstrip().endswith(b" EXISTS")] or [0])
                if n < IMAP_FOLDER:
                    raise RuntimeError("%s: %s: %d messages of %d" % (
                        srv.name, command.decode(), n, IMAP_FOLDER))
        imap_cmd(c, b"Q", b"LOGOUT")
    finally:
        c.close()
    return m.result(**res)


def scenario_imap_idle(srv, users, n=IMAP_IDLE):
    turn = itertools.count()

    def idling():
        i = next(turn)
        u = users[i % len(users)]
        c = imap_open(srv.imap_port, u, "pw-" + u, client_address(i))
        imap_cmd(c, b"S", b"SELECT INBOX")
        c.send(b"I IDLE")
        if not c.line().startswith(b"+"):
            raise RuntimeError("%s: IDLE refused" % srv.name)
        return c
    return hold_sessions(srv, n, idling)


def callgrind_total(path):
    """Total Ir of a callgrind output file (its summary/totals line)."""
    with open(path) as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    raise RuntimeError("%s: no summary line" % path)


def scenario_callgrind(root, msgs=CALLGRIND_MSGS):
    """postern serve under callgrind (its forked children are followed),
    msgs messages of 2 KB at 1 client. Only what runs inside the event
    loop is counted (--toggle-collect=event_base_loop: startup and
    shutdown left out); smtpd's file, written when it exits, gives its
    instructions per message. (callgrind_control cannot be used: postern's
    children are not dumpable, vgdb cannot reach them.)"""
    out = os.path.join(root, "callgrind")
    os.makedirs(out)
    os.chmod(out, 0o777)     # the children write there after dropping root
    srv = Postern(root, "postern-callgrind", wrapper=[
        "valgrind", "--tool=callgrind", "--trace-children=yes",
        "--collect-atstart=no", "--toggle-collect=event_base_loop",
        "--callgrind-out-file=%s/callgrind.out.%%p" % out])
    srv.add_user("user", "pw-user")
    try:
        srv.start(timeout=180)
        pid = srv.smtpd_pid()
        t0 = time.time()
        smtp_source(srv.port, msgs, 1, 2048, 120 + msgs)
        seconds = time.time() - t0
    finally:
        srv.stop()
    ir = callgrind_total(os.path.join(out, "callgrind.out.%d" % pid))
    return {"messages": msgs, "ir": ir, "ir_per_msg": ir / msgs,
            "seconds": seconds, "valgrind": subprocess.run(
                ["valgrind", "--version"], capture_output=True,
                text=True).stdout.strip()}


# ---- incoming verification -----------------------------------------------------

def import_dkimpy():
    """dkimpy (Debian's python3-dkim), also when this python is not
    Debian's own (its modules are pure Python); None without it."""
    try:
        import dkim
        return dkim
    except ImportError:
        pass
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        import dkim
        return dkim
    except ImportError:
        return None
    finally:
        if sys.path[-1] == "/usr/lib/python3/dist-packages":
            sys.path.pop()


class Dnsmasq:
    """dnsmasq on 127.0.0.1:port answering only the TXT records given,
    with that TTL (local records: --local-ttl); NXDOMAIN for the rest of
    the zone."""

    def __init__(self, zone, records, ttl):
        self.name = "dnsmasq-ttl%d" % ttl
        self.port = free_port()
        self.args = ["dnsmasq", "--no-daemon", "--port=%d" % self.port,
                     "--listen-address=127.0.0.1", "--bind-interfaces",
                     "--no-resolv", "--no-hosts", "--conf-file=/dev/null",
                     "--pid-file=", "--local-ttl=%d" % ttl,
                     "--local=/%s/" % zone] + [
            "--txt-record=%s,%s" % (name, ",".join(
                value[i:i + 250] for i in range(0, len(value), 250)))
            for name, value in records]
        self.proc = None

    @property
    def server(self):
        return "127.0.0.1:%d" % self.port

    def start(self):
        self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE,
                                     start_new_session=True)
        q = (b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
             b"\x07example\x03net\x00\x00\x10\x00\x01")
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("dnsmasq exited: %r" % self.proc.stderr.read())
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.settimeout(0.2)
                try:
                    s.sendto(q, ("127.0.0.1", self.port))
                    s.recv(512)
                    return
                except OSError:
                    time.sleep(0.05)
        raise RuntimeError("dnsmasq did not answer")

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def verify_message(root, dkimpy):
    """The bench's message file for smtp-source -F (LF line ends: it sends
    each line with CRLF), about 2 KB, From the sender's domain, signed by
    dkimpy with a fresh 2048-bit RSA key when dkimpy is there. Returns
    (path, DNS TXT records)."""
    body = b"".join(b"line %02d of the verification bench's body, 64 bytes long....\r\n"
                    % i for i in range(32))
    msg = (b"From: Bench Sender <sender@%s>\r\n"
           b"To: <%s>\r\n"
           b"Subject: verification bench\r\n"
           b"Date: Thu, 03 Dec 2026 12:00:00 +0000\r\n"
           b"Message-ID: <bench-1@%s>\r\n"
           b"\r\n" % (VERIFY_DOMAIN.encode(), RCPT.encode(),
                      VERIFY_DOMAIN.encode())) + body
    records = [(VERIFY_DOMAIN, "v=spf1 ip4:127.0.0.1 -all"),
               (VERIFY_HELO, "v=spf1 ip4:127.0.0.1 -all"),
               ("_dmarc." + VERIFY_DOMAIN, "v=DMARC1; p=reject")]
    if dkimpy is not None:
        key = os.path.join(root, "bench-dkim.pem")
        subprocess.run(["openssl", "genrsa", "-traditional", "-out", key,
                        "2048"], check=True, capture_output=True)
        der = subprocess.run(["openssl", "rsa", "-in", key, "-pubout",
                              "-outform", "DER"], check=True,
                             capture_output=True).stdout
        records.append(("sel._domainkey." + VERIFY_DOMAIN, "v=DKIM1; k=rsa; p=" +
                        base64.b64encode(der).decode()))
        with open(key, "rb") as f:
            msg = dkimpy.sign(msg, b"sel", VERIFY_DOMAIN.encode(), f.read(),
                              include_headers=[b"From", b"To", b"Subject",
                                               b"Date", b"Message-ID"]) + msg
    path = os.path.join(root, "bench-verify.eml")
    with open(path, "wb") as f:
        f.write(msg.replace(b"\r\n", b"\n"))
    return path, records


def verify_checks(srv):
    """{(spf, dkim, dmarc): count} of smtpd's verification log lines."""
    with open(os.path.join(srv.dir, "server.log"), errors="replace") as f:
        found = re.findall(r" spf=(\S+) dkim=(\S+) dmarc=(\S+) from_domain=",
                           f.read())
    out = {}
    for k in found:
        out[k] = out.get(k, 0) + 1
    return out


# (name, title, verify_incoming, TTL of the DNS answers)
VERIFY_CONFIGS = [("off", "verify off", "no", VERIFY_TTL),
                  ("on", "verify on", "yes", VERIFY_TTL),
                  ("on-ttl0", "on, TTL 0", "yes", 0)]


def verify_group(res, servers, root):
    """The same signed messages from a stranger, through postern with
    verify_incoming off, on (DNS answers cached for their TTL, 300 s) and
    on with TTL 0 (every lookup of every message asks dnsmasq). Fails if
    a message was not checked, or not checked as pass."""
    dkimpy = import_dkimpy()
    if dkimpy is None:
        res["notes"].append("python3-dkim not installed: the verification "
                            "rows are SPF and DMARC, no DKIM signature")
    path, records = verify_message(root, dkimpy)
    dns = {}
    for _, _, _, ttl in VERIFY_CONFIGS:
        if ttl not in dns:
            dns[ttl] = Dnsmasq(VERIFY_DOMAIN, records, ttl)
            servers.append(dns[ttl])
            dns[ttl].start()
    want = ("pass", "pass" if dkimpy else "none", "pass")
    for name, _, on, ttl in VERIFY_CONFIGS:
        srv = Postern(root, "postern-verify-" + name, extra=[
            # loopback is a stranger: its mail is checked
            "local_networks = 192.0.2.255/32",
            "verify_incoming = " + on,
            "dns_servers = " + dns[ttl].server])
        servers.append(srv)
        srv.add_user("user", "pw-user")
        log("bench: postern verify %s" % name)
        srv.start()
        total = 0
        for msgs, clients in VERIFY_LOADS:
            label = "%d x 2 KB, %s" % (msgs, clients_text(clients))
            log("  %s" % label)
            res.setdefault("verify", {}).setdefault(label, {})[name] = \
                scenario_smtp_load(srv, msgs, 2048, clients,
                                   sender="sender@" + VERIFY_DOMAIN,
                                   options=["-F", path, "-M", VERIFY_HELO])
            total += msgs
        srv.stop()
        checks = verify_checks(srv)
        if on == "yes" and checks != {want: total}:
            raise RuntimeError("postern verify %s: %d messages, checks %r, "
                               "want all %r" % (name, total, checks, want))
        if on == "no" and checks:
            raise RuntimeError("postern verify off checked mail: %r" % checks)
    for d in dns.values():
        d.stop()
    res["verify_what"] = "SPF (MAIL FROM and HELO) + %sDMARC p=reject, all " \
        "pass" % ("DKIM rsa-sha256 2048 + " if dkimpy else "")


def verify_lines(res):
    """The verification table: each configuration and its ratio to off."""
    metrics = [("accepted_per_s", "all 250s, msgs/s", rate),
               ("delivered_per_s", "all in the Maildir, msgs/s", rate),
               ("cpu_s", "CPU seconds", sec)]
    head = ["measure"]
    for name, title, _, _ in VERIFY_CONFIGS:
        head.append(title)
        if name != "off":
            head.append("/off")
    rows = []
    for label, per in res["verify"].items():
        base = per.get("off", {})
        for key, title, fmt in metrics:
            row = [label + ": " + title]
            for name, _, _, _ in VERIFY_CONFIGS:
                v = per.get(name, {}).get(key)
                row.append(fmt(v) if v is not None else "-")
                if name != "off":
                    row.append(ratio(v, base.get(key)))
            rows.append(tuple(row))
    return grid(tuple(head), rows)


# ---- mailboxes -------------------------------------------------------------------

def make_messages(dirs, count, length, owner, sub="new"):
    """The same `count` messages of about `length` bytes (CRLF line ends) in
    each Maildir of dirs, owned by `owner`."""
    line = b"x" * 70 + b"\r\n"
    for md in dirs:
        for s in ("new", "cur", "tmp"):
            os.makedirs(os.path.join(md, s), exist_ok=True)
    for i in range(count):
        body = (b"From: bench@example.org\r\nTo: user@bench.test\r\n"
                b"Subject: message %d\r\n\r\n" % i)
        body += line * ((length - len(body)) // len(line))
        name = "1700000000.M%dP1Q%d.bench,S=%d%s" % (
            i, i, len(body), ":2," if sub == "cur" else "")
        for md in dirs:
            with open(os.path.join(md, sub, name), "wb") as f:
                f.write(body)
    for md in dirs:
        for dp, dn, fn in os.walk(os.path.dirname(md)):
            for x in dn + fn:
                os.chown(os.path.join(dp, x), owner, owner)
            os.chown(dp, owner, owner)


# ---- report ------------------------------------------------------------------

def ratio(a, b):
    return "%.2f" % (a / b) if a is not None and b else ""


def mib(kib):
    return "%.1f MiB" % (kib / 1024.0)


def rate(x):
    return "%.1f/s" % x


def sec(x):
    return "%.2f s" % x


# (key, title, format[, key of smtp-sink's figure to compare with])
SMTP_METRICS = [("accepted_per_s", "all 250s, msgs/s", rate, "accepted_per_s"),
                ("delivered_per_s", "all in the Maildir, msgs/s", rate,
                 "accepted_per_s"),
                ("cpu_s", "CPU seconds", sec),
                ("peak_rss_kib", "peak RSS (sum)", mib),
                ("peak_pss_kib", "peak PSS (sum)", mib)]
MEM_METRICS = [("rss_kib", "RSS (sum)", mib), ("pss_kib", "PSS (sum)", mib),
               ("procs", "processes", str)]
LOGIN_METRICS = [("logins_per_s", "logins/s", rate), ("cpu_s", "CPU seconds", sec)]
RETR_METRICS = [("retr_per_s", "RETR/s", rate), ("cpu_s", "CPU seconds", sec),
                ("peak_pss_kib", "peak PSS (sum)", mib)]
FETCH_METRICS = [("select_s", "first SELECT", sec),
                 ("flags_s", "UID FETCH 1:* (FLAGS RFC822.SIZE)", sec),
                 ("bodies_s", "FETCH 1:* BODY.PEEK[]", sec),
                 ("cpu_s", "CPU seconds", sec),
                 ("peak_pss_kib", "peak PSS (sum)", mib)]


def metric_rows(rows, prefix, per_server, ref, metrics):
    """One row per metric: postern, the reference, their ratio and, for
    SMTP rates, smtp-sink's rate and postern's share of it."""
    p, o = per_server.get("postern", {}), per_server.get(ref, {})
    s = per_server.get("smtp-sink", {})
    for key, title, fmt, *vs_sink in metrics:
        pv, ov = p.get(key), o.get(key)
        sv = s.get(vs_sink[0]) if vs_sink else None
        if pv is None and ov is None:
            continue
        rows.append((prefix + title, fmt(pv) if pv is not None else "-",
                     fmt(ov) if ov is not None else "-", ratio(pv, ov),
                     fmt(sv) if sv is not None else "", ratio(pv, sv)))


def grid(head, rows):
    """Aligned lines: the first column left, the others right."""
    w = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]
    fmt = "  ".join(["%%-%ds" % w[0]] + ["%%%ds" % x for x in w[1:]])
    return [fmt % head] + [fmt % r for r in rows]


def table(rows, ref):
    head = ("measure", "postern", ref, "ratio", "smtp-sink", "/sink")
    if not any(r[4] for r in rows):
        head, rows = head[:4], [r[:4] for r in rows]
    return grid(head, rows)


# issue targets: (clients of the 2 KB load, minimum delivered ratio to
# Postfix, minimum share of smtp-sink's 250 rate or None)
TARGETS = [(1, 1.2, None), (20, 2.0, 0.5), (100, 2.0, None)]


def target_lines(smtp):
    """The delivered-rate targets, met or not, for the 2 KB loads run."""
    out = []
    for msgs, length, clients in SMTP_LOADS:
        per = smtp.get(load_label(msgs, length, clients), {})
        goal = [t for t in TARGETS if t[0] == clients and length == 2048]
        if not goal or "postern" not in per:
            continue
        got = per["postern"]["delivered_per_s"]
        checks = [("Postfix", goal[0][1], per.get("postfix", {}).get(
            "delivered_per_s"))]
        if goal[0][2] is not None:
            checks.append(("smtp-sink", goal[0][2], per.get(
                "smtp-sink", {}).get("accepted_per_s")))
        for who, want, other in checks:
            if other:
                out.append("target at %s: delivered >= %.1f x %s: %.2f x, %s"
                           % (clients_text(clients), want, who, got / other,
                              "met" if got / other >= want else "NOT met"))
    return out


def report(res, machine):
    out = []
    w = out.append
    w("postern benchmark%s, %s, commit %s" % (
        " (QUICK: small counts, not comparable)" if QUICK else "",
        time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), res["commit"]))
    w("machine: %s" % machine)
    w("ratio = postern / reference in this run: rates > 1 and times, CPU, "
      "memory < 1 favour postern")
    if "fsync" in res:
        w("")
        w("disk under the spool, 2 KiB append + fdatasync: " + ", ".join(
            "%d thread%s %.0f ops/s" % (r["threads"], "s" if r["threads"] > 1
                                        else "", r["ops_per_s"])
            for r in res["fsync"]))
        w("  (%s)" % res.get("spool_fs", "?"))
    sections = [("SMTP", "postfix", [
        ("idle server: ", res.get("mem_idle"), MEM_METRICS),
        ("%d idle sessions: " % IDLE_SESSIONS, res.get("smtp_idle"),
         MEM_METRICS)] + [
        ("%s: " % label, per, SMTP_METRICS)
        for label, per in res.get("smtp", {}).items()]),
        ("POP3", "dovecot", [
            ("login %s: " % label, per, LOGIN_METRICS)
            for label, per in res.get("pop3_login", {}).items()] + [
            ("%d clients x %d msgs x %d rounds: " % (
                POP_USERS, POP_MSGS, POP_ROUNDS), res.get("pop3_retr"),
             RETR_METRICS)]),
        ("IMAP", "dovecot", [
            ("login %s: " % label, per, LOGIN_METRICS)
            for label, per in res.get("imap_login", {}).items()] + [
            ("%d-message folder: " % IMAP_FOLDER, res.get("imap_fetch"),
             FETCH_METRICS),
            ("%d sessions in IDLE: " % IMAP_IDLE, res.get("imap_idle"),
             MEM_METRICS)])]
    for title, ref, parts in sections:
        rows = []
        for prefix, per, metrics in parts:
            if per:
                metric_rows(rows, prefix, per, ref, metrics)
        if rows:
            w("")
            w("%s (reference %s)" % (title, ref))
            out.extend(table(rows, ref))
    if "smtp" in res:
        w("")
        out.extend(target_lines(res["smtp"]))
    if "smtp_idle" in res and "postern" in res["smtp_idle"]:
        p, base = res["smtp_idle"]["postern"], res.get("smtpd_base_kib", 0)
        w("")
        w("postern smtpd alone: %s empty, %s with %d idle sessions (%.1f KiB "
          "per session)" % (mib(base), mib(p["smtpd_rss_kib"]), IDLE_SESSIONS,
                            (p["smtpd_rss_kib"] - base) / IDLE_SESSIONS))
    for label, per in res.get("smtp", {}).items():
        if "postern" in per:
            w("postern smtpd peak RSS (VmHWM) after %s: %s"
              % (label, mib(per["postern"]["smtpd_hwm_kib"])))
    if "verify" in res:
        w("")
        w("Incoming verification, postern alone: a stranger's dkimpy-signed "
          "2 KB messages (%s)" % res.get("verify_what", "?"))
        out.extend(verify_lines(res))
        w("  (/off = that figure over verify off's, same run. DNS from a "
          "loopback dnsmasq; smtpd caches each answer for its TTL "
          "(dns_cache.c): with %d s every lookup after the first message is "
          "a cache hit, so the 'on' column is the cost of the checks "
          "themselves; 'TTL 0' asks dnsmasq for every record of every "
          "message)" % VERIFY_TTL)
    if "callgrind" in res:
        c = res["callgrind"]
        w("")
        w("callgrind: postern smtpd %.0f instructions per received message "
          "(%d x 2 KB, 1 client, %s)" % (c["ir_per_msg"], c["messages"],
                                         c["valgrind"]))
    for n in res.get("notes", []):
        w("note: " + n)
    return "\n".join(out) + "\n"


def machine_text():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) // 1024
    pf = subprocess.run(["postconf", "-d", "-h", "mail_version"],
                        capture_output=True, text=True).stdout.strip()
    dv = subprocess.run(["dovecot", "--version"], capture_output=True,
                        text=True).stdout.strip() if shutil.which("dovecot") else "-"
    return ("%d cores (%s), %d MiB RAM, kernel %s, load %.2f at the end; "
            "Postfix %s, Dovecot %s" % (os.cpu_count(), model, mem,
                                        os.uname().release,
                                        os.getloadavg()[0], pf, dv))


def commit():
    r = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                       capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain",
                            "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return (r.stdout.strip() or "?") + ("-dirty" if dirty else "")


# ---- the run -------------------------------------------------------------------

POP_USER_NAMES = ["u%02d" % i for i in range(POP_USERS)]
APOP_USER_NAMES = ["a%02d" % i for i in range(max(LOGIN_CLIENTS))]
FOLDER_USER = "big"


def smtp_group(res, servers, pst, root):
    """Every SMTP scenario against postern, Postfix and smtp-sink, one
    server at a time."""
    for srv in (pst, Postfix(root), Sink(root)):
        if srv is not pst:
            servers.append(srv)
        log("bench: %s SMTP" % srv.name)
        srv.start()
        if srv is pst:
            time.sleep(0.3)
            res["smtpd_base_kib"] = status_kib(srv.smtpd_pid(), "VmRSS")
        res.setdefault("mem_idle", {})[srv.name] = scenario_memory_idle(srv)
        if wanted("smtp"):
            for msgs, length, clients in SMTP_LOADS:
                label = load_label(msgs, length, clients)
                log("  %s" % label)
                res.setdefault("smtp", {}).setdefault(label, {})[srv.name] = \
                    scenario_smtp_load(srv, msgs, length, clients)
        if wanted("idle") and not isinstance(srv, Sink):
            log("  %d idle sessions" % IDLE_SESSIONS)
            res.setdefault("smtp_idle", {})[srv.name] = scenario_smtp_idle(srv)
            time.sleep(0.5)
        srv.stop()


def record(res, key, label, srv, scenario, tolerant=False):
    """res[key][label][server] = scenario() (label None: res[key][server]).
    tolerant: a server that fails the scenario gets a note instead of
    stopping the run (postern's IMAP while it is being written)."""
    log("  %s%s" % (key, " " + label if label else ""))
    slot = res.setdefault(key, {})
    if label is not None:
        slot = slot.setdefault(label, {})
    try:
        slot[srv.name] = scenario()
    except (RuntimeError, OSError) as e:
        if not tolerant:
            raise
        res["notes"].append("%s %s%s failed: %s" % (
            srv.name, key, " " + label if label else "", e))


def pop3_scenarios(res, srv):
    for apop in (False, True):
        users = APOP_USER_NAMES if apop else POP_USER_NAMES

        def login(port, user, password, source, apop=apop):
            pop3_login(port, user, password, source, apop)
        for clients in LOGIN_CLIENTS:
            record(res, "pop3_login", "%s, %s" % (
                "APOP" if apop else "USER/PASS", clients_text(clients)), srv,
                lambda: scenario_logins(srv, login, srv.pop_port, users,
                                        clients))
    record(res, "pop3_retr", None, srv,
           lambda: scenario_pop3_retr(srv, POP_USER_NAMES))


def imap_scenarios(res, srv):
    tolerant = isinstance(srv, Postern)
    wait_port(srv.imap_port, banner=b"* OK", bye=b"Q LOGOUT\r\n")
    for clients in LOGIN_CLIENTS:
        record(res, "imap_login", clients_text(clients), srv,
               lambda: scenario_logins(srv, imap_login, srv.imap_port,
                                       POP_USER_NAMES, clients), tolerant)
    record(res, "imap_fetch", None, srv,
           lambda: scenario_imap_fetch(srv, FOLDER_USER), tolerant)
    record(res, "imap_idle", None, srv,
           lambda: scenario_imap_idle(srv, POP_USER_NAMES), tolerant)


def mail_group(res, servers, pst, root, postern_imap):
    """POP3 and IMAP against postern and Dovecot, the same files and the
    same password hashes."""
    dov = Dovecot(root, {u: h for u, h in pst.hashes.items()
                         if u not in APOP_USER_NAMES},
                  {u: "pw-" + u for u in APOP_USER_NAMES})
    servers.append(dov)
    pst_uid = pwd.getpwnam("postern").pw_uid
    for srv, owner in ((pst, pst_uid), (dov, NOBODY)):
        make_messages([srv.maildir(u) for u in POP_USER_NAMES + APOP_USER_NAMES],
                      POP_MSGS, POP_LEN, owner)
        make_messages([srv.maildir(FOLDER_USER)], IMAP_FOLDER, IMAP_MSG_LEN,
                      owner, sub="cur")
    for srv in (pst, dov):
        log("bench: %s POP3/IMAP" % srv.name)
        srv.start()
        wait_port(srv.pop_port, banner=b"+OK")
        if wanted("pop3"):
            pop3_scenarios(res, srv)
        if wanted("imap") and dovecot_has("imap") and \
                (srv is dov or postern_imap):
            imap_scenarios(res, srv)
        srv.stop()


def run(res, servers, root):
    notes = res.setdefault("notes", [])
    if wanted("fsync"):
        log("bench: fsync rate")
        res["fsync"] = [scenario_fsync(root, n) for n in (1, 4)]
        res["spool_fs"] = subprocess.run(
            ["findmnt", "-n", "-o", "FSTYPE,SOURCE,OPTIONS", "-T", root],
            capture_output=True, text=True).stdout.strip()
    postern_imap = False
    if wanted("imap"):
        postern_imap = postern_has_imap()
        if not postern_imap:
            notes.append("postern has no listen_imap yet: IMAP rows are "
                         "Dovecot's alone")
        if not dovecot_has("imap"):
            notes.append("dovecot-imapd not installed: no IMAP rows")
    pst = Postern(root, imap=postern_imap)
    servers.append(pst)
    if wanted("smtp") or wanted("idle") or wanted("pop3") or wanted("imap"):
        pst.add_user("user", "pw-user")
        for u in POP_USER_NAMES + [FOLDER_USER]:
            pst.add_user(u, "pw-" + u)
        for u in APOP_USER_NAMES:
            pst.add_user(u, "pw-" + u, apop=True)
    if wanted("smtp") or wanted("idle"):
        smtp_group(res, servers, pst, root)
    if wanted("pop3") or wanted("imap"):
        if dovecot_has("pop3"):
            mail_group(res, servers, pst, root, postern_imap)
        else:
            notes.append("dovecot-pop3d not installed: no POP3/IMAP rows")
    if wanted("verify"):
        verify_group(res, servers, root)
    if wanted("callgrind"):
        log("bench: callgrind, %d messages" % CALLGRIND_MSGS)
        res["callgrind"] = scenario_callgrind(root)


def main():
    if os.geteuid() != 0:
        log("bench: run as root (Postfix and Dovecot need it)")
        return 1
    if not os.access(POSTERN, os.X_OK):
        log("bench: build postern first (make)")
        return 1
    import resource
    # SIGTERM (timeout, make interrupted) still stops every server.
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    root = tempfile.mkdtemp(prefix="postern-bench-")
    os.chmod(root, 0o755)     # Postfix and Dovecot children look inside
    servers, failed = [], None
    res = {"commit": commit(), "quick": QUICK}
    t0 = time.time()
    try:
        run(res, servers, root)
    except Exception as e:     # report what was measured, then fail
        failed = "%s: %s" % (type(e).__name__, e)
        log("bench: FAILED: " + failed)
        os.environ["BENCH_KEEP"] = "1"
    finally:
        for s in servers:
            try:
                s.stop()
            except Exception as e:  # keep cleaning up
                log("bench: stopping %s: %s" % (s.name, e))
        if os.environ.get("BENCH_KEEP"):
            log("bench: kept " + root)
        else:
            shutil.rmtree(root, ignore_errors=True)
    res["run_seconds"] = time.time() - t0
    text = report(res, machine_text())
    text += "run time: %.0f s\n" % res["run_seconds"]
    if failed:
        text += "FAILED: %s\n" % failed
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    with open(os.path.join(HERE, "results", "bench-%s.txt" % stamp), "w") as f:
        f.write(text)
    with open(os.path.join(HERE, "results", "bench-%s.json" % stamp), "w") as f:
        json.dump(res, f, indent=1, sort_keys=True)
    sys.stdout.write(text)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
