#!/usr/bin/env python3
"""bench - postern side by side with Postfix (SMTP) and Dovecot (POP3).

Run by bench/run.sh (`make bench`), as root, loopback only. Every server
is a private instance in one temporary directory: postern from this tree,
Postfix from a config_directory/queue_directory of its own (postfix -c DIR),
Dovecot from `dovecot -c FILE` with its own base_dir. All of them are
stopped and the directory removed at the end, whatever happens.

Scenarios (each against a fresh instance, the same client for both sides):
  throughput  smtp-source -m 2000 -s 20 -l 4096 to a local Maildir user:
              messages/s until the last one is in the Maildir, CPU seconds
              of every server process (reaped children included), peak
              memory of the whole server (sum of RSS and of PSS).
  idle        1000 SMTP sessions that got their greeting and say nothing:
              RSS/PSS of the server (postern: one smtpd; Postfix: one
              smtpd process per session).
  big         100 concurrent sessions each sending one 50 MB message
              (smtp-source -l 52428800): time to deliver, peak memory.
  pop3        20 mailboxes of 100 messages of 4 KiB (the same files for
              both), 20 concurrent clients, each: USER/PASS (the same
              yescrypt hash for both), STAT, RETR 1..100, QUIT, 3 rounds.

Ratios are postern / other, measured in the same run: < 1 means postern
needs less time/CPU/memory; for rates > 1 means postern is faster.
Results: bench/results/bench-STAMP.txt and .json.

Environment: BENCH_SKIP=big,pop3,...  skip scenarios;  BENCH_KEEP=1 keep
the temporary directory.
"""
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
POSTERN = os.path.join(REPO, "postern")
HZ = os.sysconf("SC_CLK_TCK")
DOMAIN = "bench.test"
RCPT = "user@" + DOMAIN
SKIP = set(filter(None, os.environ.get("BENCH_SKIP", "").split(",")))
NOBODY = 65534

THROUGHPUT_MSGS, THROUGHPUT_SESS, THROUGHPUT_LEN = 2000, 20, 4096
IDLE_SESSIONS = 1000
BIG_SESSIONS, BIG_LEN = 100, 50 * 1024 * 1024
POP_USERS, POP_MSGS, POP_ROUNDS, POP_LEN = 20, 100, 3, 4096


def log(msg):
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


def free_port():
    """A free port outside the kernel's ephemeral range: the scenarios open
    thousands of client connections, whose source ports must not take the
    port of a server that starts later."""
    import random
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


def wait_port(port, timeout=20.0, banner=b""):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), 1.0) as s:
                s.settimeout(2.0)
                if s.recv(512).startswith(banner):
                    s.sendall(b"QUIT\r\n")
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


# ---- the servers ---------------------------------------------------------

class Postern:
    name = "postern"

    def __init__(self, root):
        self.dir = os.path.join(root, "postern")
        os.makedirs(self.dir)
        self.conf = os.path.join(self.dir, "postern.conf")
        self.spool = os.path.join(self.dir, "spool")
        self.port, self.pop_port = free_port(), free_port()
        with open(self.conf, "w") as f:
            f.write("\n".join([
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
                "max_sessions = 1100",
                ""]))
        self.proc = None
        self.logf = None
        self.hashes = {}

    def add_user(self, name, password):
        r = subprocess.run([POSTERN, "user", "add", "-c", self.conf, name],
                           input=password + "\n", text=True,
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

    def start(self):
        self.logf = open(os.path.join(self.dir, "server.log"), "ab")
        self.proc = subprocess.Popen([POSTERN, "serve", "-c", self.conf],
                                     stdin=subprocess.DEVNULL,
                                     stdout=self.logf, stderr=self.logf,
                                     start_new_session=True)
        wait_port(self.port, banner=b"220")
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
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        self.logf.close()


POSTFIX_MASTER = """\
127.0.0.1:{port} inet n - n - 1100 smtpd
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
    creating a system user for the run). Defaults otherwise (fsync on)."""
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
            f.write(POSTFIX_MASTER.format(port=self.port))
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
        deadline = time.time() + 10
        while time.time() < deadline and stat_of(self.root):
            time.sleep(0.1)
        for p in tree(self.root) if stat_of(self.root) else []:
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        self.root = None


class Dovecot:
    """A private Dovecot (pop3 only) with its own base_dir, the users'
    passwords as the same yescrypt hashes postern checks ({CRYPT})."""
    name = "dovecot"

    def __init__(self, root, hashes):
        self.dir = os.path.join(root, "dovecot")
        os.makedirs(os.path.join(self.dir, "run"))
        os.makedirs(os.path.join(self.dir, "mail"))
        os.chown(os.path.join(self.dir, "mail"), NOBODY, NOBODY)
        self.port = free_port()
        d = self.dir
        with open(os.path.join(d, "passwd"), "w") as f:
            for u, h in sorted(hashes.items()):
                f.write("%s:{CRYPT}%s:%d:%d::%s/mail/%s::\n"
                        % (u, h, NOBODY, NOBODY, d, u))
        self.conf = os.path.join(d, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write("""\
base_dir = {d}/run
log_path = {d}/dovecot.log
protocols = pop3
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
mail_location = maildir:~/Maildir
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = {d}/passwd
}}
userdb {{
  driver = passwd-file
  args = {d}/passwd
}}
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
""".format(d=d, port=self.port))
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
        wait_port(self.port, banner=b"+OK")
        with open(os.path.join(self.dir, "run", "master.pid")) as f:
            self.root = int(f.read().split()[0])

    def stop(self):
        if self.root is None:
            return
        try:
            os.kill(self.root, signal.SIGTERM)
        except OSError:
            pass
        deadline = time.time() + 10
        while time.time() < deadline and stat_of(self.root):
            time.sleep(0.1)
        if stat_of(self.root):
            for p in tree(self.root):
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass
        self.root = None


# ---- scenarios -------------------------------------------------------------

def smtp_source(port, msgs, sess, length, timeout):
    cmd = ["smtp-source", "-m", str(msgs), "-s", str(sess), "-l", str(length),
           "-f", "sender@example.org", "-t", RCPT, "127.0.0.1:%d" % port]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError("smtp-source: %s %s" % (r.stdout, r.stderr))


def run_delivery(srv, msgs, sess, length, timeout):
    """smtp-source into srv; returns the measurements."""
    md = srv.maildir()
    before = count_files(md)
    cpu0 = cpu_seconds(srv.root)
    sampler = Sampler(srv.root, 0.25)
    sampler.start()
    t0 = time.time()
    smtp_source(srv.port, msgs, sess, length, timeout)
    t_acc = time.time()
    t_del = wait_count(md, before + msgs, timeout)
    sampler.stop()
    cpu = cpu_seconds(srv.root) - cpu0
    res = {"accept_s": t_acc - t0, "deliver_s": t_del - t0,
           "msgs_per_s": msgs / (t_del - t0), "cpu_s": cpu,
           "peak_rss_kib": sampler.peak_rss, "peak_pss_kib": sampler.peak_pss,
           "peak_procs": sampler.peak_procs}
    if isinstance(srv, Postern):
        res["smtpd_hwm_kib"] = status_kib(srv.smtpd_pid(), "VmHWM")
    return res


def clear_maildir(md):
    for sub in ("new", "cur", "tmp"):
        d = os.path.join(md, sub)
        if os.path.isdir(d):
            for n in os.listdir(d):
                os.unlink(os.path.join(d, n))


def scenario_idle(srv, n=IDLE_SESSIONS):
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.setblocking(True)
            s.settimeout(120)
            s.connect(("127.0.0.1", srv.port))
            socks.append(s)
        for s in socks:
            if not s.recv(512).startswith(b"220"):
                raise RuntimeError("%s: no greeting in the idle test" % srv.name)
        time.sleep(0.5)
        procs, rss, pss = memory(srv.root)
        res = {"sessions": n, "procs": procs, "rss_kib": rss, "pss_kib": pss}
        if isinstance(srv, Postern):
            pid = srv.smtpd_pid()
            res["smtpd_rss_kib"] = status_kib(pid, "VmRSS")
        # and a new client is still served
        smtp_source(srv.port, 1, 1, 1024, 60)
        return res
    finally:
        for s in socks:
            s.close()


def make_pop_mailboxes(dirs, owner):
    """The same POP_MSGS files, CRLF line ends, in each Maildir."""
    line = b"x" * 70 + b"\r\n"
    for i in range(POP_MSGS):
        body = (b"From: bench@example.org\r\nSubject: message %d\r\n\r\n" % i)
        body += line * ((POP_LEN - len(body)) // len(line))
        name = "1700000000.M%dP1Q%d.bench,S=%d" % (i, i, len(body))
        for md in dirs:
            path = os.path.join(md, "new", name)
            with open(path, "wb") as f:
                f.write(body)
    for md in dirs:
        for dp, dn, fn in os.walk(os.path.dirname(md)):
            for x in dn + fn:
                os.chown(os.path.join(dp, x), owner, owner)
            os.chown(dp, owner, owner)


def pop3_client(port, user, password, rounds, errors, counts):
    try:
        for _ in range(rounds):
            s = socket.create_connection(("127.0.0.1", port), 30)
            f = s.makefile("rb")

            def cmd(line):
                s.sendall(line + b"\r\n")
                r = f.readline()
                if not r.startswith(b"+OK"):
                    raise RuntimeError("%s: %r -> %r" % (user, line, r))
                return r
            if not f.readline().startswith(b"+OK"):
                raise RuntimeError("no greeting")
            cmd(b"USER " + user.encode())
            cmd(b"PASS " + password.encode())
            n = int(cmd(b"STAT").split()[1])
            for i in range(1, n + 1):
                cmd(b"RETR %d" % i)
                while True:
                    ln = f.readline()
                    if ln == b".\r\n" or not ln:
                        break
                counts.append(1)
            cmd(b"QUIT")
            s.close()
    except Exception as e:  # noqa: reported below
        errors.append("%s: %s" % (user, e))


def scenario_pop3(srv, users):
    errors, counts = [], []
    cpu0 = cpu_seconds(srv.root)
    sampler = Sampler(srv.root, 0.2)
    sampler.start()
    t0 = time.time()
    th = [threading.Thread(target=pop3_client,
                           args=(srv.pop_port if isinstance(srv, Postern)
                                 else srv.port, u, "pw-" + u, POP_ROUNDS,
                                 errors, counts))
          for u in users]
    for t in th:
        t.start()
    for t in th:
        t.join()
    dt = time.time() - t0
    sampler.stop()
    if errors:
        raise RuntimeError("%s POP3: %s" % (srv.name, errors[:3]))
    return {"retrs": len(counts), "seconds": dt, "msgs_per_s": len(counts) / dt,
            "cpu_s": cpu_seconds(srv.root) - cpu0,
            "peak_rss_kib": sampler.peak_rss, "peak_pss_kib": sampler.peak_pss}


# ---- report ----------------------------------------------------------------

def ratio(a, b):
    return "%.2f" % (a / b) if b else "-"


def fmt_mib(kib):
    return "%.1f MiB" % (kib / 1024.0)


def report(res, machine):
    out = []
    w = out.append
    w("postern benchmark, %s" % time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()))
    w("machine: %s" % machine)
    w("ratio = postern / other, measured in this run (time, CPU, memory: "
      "< 1 is better for postern; msgs/s: > 1 is better for postern)")
    w("")
    rows = []

    def row(name, p, o, key, fmt, other):
        rows.append((name, fmt(p[key]), fmt(o[key]), other, ratio(p[key], o[key])))

    def num(x):
        return "%.1f" % x

    def sec(x):
        return "%.2f s" % x

    if "throughput" in res:
        p, o = res["throughput"]["postern"], res["throughput"]["postfix"]
        t = "SMTP %d x %d B, %d sessions: " % (THROUGHPUT_MSGS, THROUGHPUT_LEN,
                                             THROUGHPUT_SESS)
        row(t + "delivered msgs/s", p, o, "msgs_per_s", num, "postfix")
        row(t + "all 250s received", p, o, "accept_s", sec, "postfix")
        row(t + "CPU seconds", p, o, "cpu_s", sec, "postfix")
        row(t + "peak RSS (sum)", p, o, "peak_rss_kib", fmt_mib, "postfix")
        row(t + "peak PSS (sum)", p, o, "peak_pss_kib", fmt_mib, "postfix")
    if "idle" in res:
        p, o = res["idle"]["postern"], res["idle"]["postfix"]
        t = "%d idle SMTP sessions: " % IDLE_SESSIONS
        row(t + "RSS (sum)", p, o, "rss_kib", fmt_mib, "postfix")
        row(t + "PSS (sum)", p, o, "pss_kib", fmt_mib, "postfix")
        row(t + "processes", p, o, "procs", str, "postfix")
    if "big" in res:
        p, o = res["big"]["postern"], res["big"]["postfix"]
        t = "%d sessions x 50 MB: " % BIG_SESSIONS
        row(t + "all 250s received", p, o, "accept_s", sec, "postfix")
        row(t + "all delivered", p, o, "deliver_s", sec, "postfix")
        row(t + "CPU seconds", p, o, "cpu_s", sec, "postfix")
        row(t + "peak RSS (sum)", p, o, "peak_rss_kib", fmt_mib, "postfix")
        row(t + "peak PSS (sum)", p, o, "peak_pss_kib", fmt_mib, "postfix")
    if "pop3" in res:
        p, o = res["pop3"]["postern"], res["pop3"]["dovecot"]
        t = "POP3 %d clients, %d RETR: " % (POP_USERS, p["retrs"])
        row(t + "msgs/s", p, o, "msgs_per_s", num, "dovecot")
        row(t + "CPU seconds", p, o, "cpu_s", sec, "dovecot")
        row(t + "peak RSS (sum)", p, o, "peak_rss_kib", fmt_mib, "dovecot")
        row(t + "peak PSS (sum)", p, o, "peak_pss_kib", fmt_mib, "dovecot")
    wn = max(len(r[0]) for r in rows) if rows else 10
    w("%-*s  %12s  %12s  %-8s %s" % (wn, "measure", "postern", "other", "other", "ratio"))
    for r in rows:
        w("%-*s  %12s  %12s  %-8s %s" % (wn, r[0], r[1], r[2], r[3], r[4]))
    w("")
    if "idle" in res:
        p = res["idle"]["postern"]
        w("postern smtpd alone with %d idle sessions: RSS %s (%.1f KiB per session "
          "over the empty process's %s)" % (
              IDLE_SESSIONS, fmt_mib(p["smtpd_rss_kib"]),
              (p["smtpd_rss_kib"] - res.get("smtpd_base_kib", 0)) / IDLE_SESSIONS,
              fmt_mib(res.get("smtpd_base_kib", 0))))
    if "big" in res:
        w("postern smtpd peak RSS (VmHWM) with %d x 50 MB: %s" % (
            BIG_SESSIONS, fmt_mib(res["big"]["postern"]["smtpd_hwm_kib"])))
    if "throughput" in res:
        w("postern smtpd peak RSS (VmHWM) in the throughput run: %s" %
          fmt_mib(res["throughput"]["postern"]["smtpd_hwm_kib"]))
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
    return "%d cores (%s), %d MiB RAM; Postfix %s, Dovecot %s" % (
        os.cpu_count(), model, mem, pf, dv)


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
    servers = []
    res = {}
    failed = None
    try:
        # -- SMTP: postern, then Postfix, one scenario after the other.
        for cls in (Postern, Postfix):
            srv = cls(root)
            servers.append(srv)
            if isinstance(srv, Postern):
                srv.add_user("user", "pw-user")
                for i in range(POP_USERS):
                    srv.add_user("u%02d" % i, "pw-u%02d" % i)
            log("bench: %s" % srv.name)
            srv.start()
            if isinstance(srv, Postern):
                time.sleep(0.3)
                res["smtpd_base_kib"] = status_kib(srv.smtpd_pid(), "VmRSS")
            if "throughput" not in SKIP:
                log("  throughput: %d messages" % THROUGHPUT_MSGS)
                res.setdefault("throughput", {})[srv.name] = run_delivery(
                    srv, THROUGHPUT_MSGS, THROUGHPUT_SESS, THROUGHPUT_LEN, 300)
                clear_maildir(srv.maildir())
            if "big" not in SKIP:
                log("  big: %d x 50 MB" % BIG_SESSIONS)
                res.setdefault("big", {})[srv.name] = run_delivery(
                    srv, BIG_SESSIONS, BIG_SESSIONS, BIG_LEN, 600)
                clear_maildir(srv.maildir())
            if "idle" not in SKIP:
                log("  idle: %d sessions" % IDLE_SESSIONS)
                res.setdefault("idle", {})[srv.name] = scenario_idle(srv)
                time.sleep(0.5)
            srv.stop()
        # -- POP3: postern against Dovecot, the same files.
        if "pop3" not in SKIP and shutil.which("dovecot"):
            pst = servers[0]
            dov = Dovecot(root, {u: h for u, h in pst.hashes.items()
                                 if u != "user"})
            servers.append(dov)
            users = ["u%02d" % i for i in range(POP_USERS)]
            pst_uid = pwd.getpwnam("postern").pw_uid
            for u in users:
                for md in (pst.maildir(u), dov.maildir(u)):
                    for sub in ("new", "cur", "tmp"):
                        os.makedirs(os.path.join(md, sub), exist_ok=True)
            make_pop_mailboxes([pst.maildir(u) for u in users], pst_uid)
            make_pop_mailboxes([dov.maildir(u) for u in users], NOBODY)
            res["pop3"] = {}
            for srv in (pst, dov):
                log("bench: %s POP3" % srv.name)
                srv.start()
                if isinstance(srv, Postern):
                    wait_port(srv.pop_port, banner=b"+OK")
                res["pop3"][srv.name] = scenario_pop3(srv, users)
                srv.stop()
        elif "pop3" not in SKIP:
            log("bench: dovecot not installed; POP3 comparison skipped")
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
    res = {k: v for k, v in res.items()
           if not isinstance(v, dict) or len(v) == 2}   # complete pairs only
    text = report(res, machine_text())
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
