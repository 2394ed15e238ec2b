"""Issue 9 item 6, from the attacker's side: what could a compromised child
reach through the descriptors it holds?

The full server runs (SMTP, submission, POP3, TLS: every process exists).
For every process we list /proc/PID/fd (readlink) and /proc/PID/fdinfo
(flags) and compare with the set that its job needs, written out below:
  - every descriptor above 2 is close-on-exec;
  - each process has at most one event base of its own (one eventpoll);
    the hashing workers have none: stdio and one socket, nothing else;
  - directories: exactly the spool directories of the process's job;
  - TCP listeners: smtpd holds the SMTP ones, pop3d the POP3 ones, the
    master all (it binds them), nobody else any;
  - every unix socket is held by exactly one process (a TCP listener is
    shared by the master and its child), and its peer (from
    `ss -xpn`) is in a process this one is allowed to talk to: a hasher
    only to auth, the queue only to the master, smtpd to auth and the
    master... so no child can forge another's answers.
A new leaked descriptor (an inherited epoll, a peer's channel, a listener)
fails the test."""
import os
import re
import socket
import subprocess
import unittest

import tlsutil
from harness import PosternTestCase, free_port, ensure_system_user
from test_privsep import children_from_log

O_CLOEXEC = 0o2000000

# Who may hold a unix socket whose peer is in whom.
PEERS = {
    "master": {"smtpd", "auth", "queue", "pop3d"},
    "smtpd": {"master", "auth"},
    "auth": {"master", "smtpd", "pop3d", "hasher"},
    "queue": {"master"},
    "pop3d": {"master", "auth"},
    "hasher": {"auth"},
}
# Spool directories (relative to the spool) each process works from.
DIRS = {
    "master": None,     # the master opens them all; not checked
    "smtpd": {"incoming", "queue"},
    "auth": {""},
    "queue": None,      # checked below: a subset of the spool's directories
    "pop3d": {"mail"},
    "hasher": set(),
}


def fd_table(pid):
    """[(fd, target, flags)] of pid, fds above 2."""
    out = []
    for name in os.listdir("/proc/%d/fd" % pid):
        fd = int(name)
        if fd <= 2:
            continue
        try:
            target = os.readlink("/proc/%d/fd/%d" % (pid, fd))
            with open("/proc/%d/fdinfo/%d" % (pid, fd)) as f:
                info = f.read()
        except OSError:
            continue        # closed while we looked
        m = re.search(r"^flags:\s*([0-7]+)", info, re.M)
        out.append((fd, target, int(m.group(1), 8) if m else 0))
    return out


def unix_peers():
    """{inode: peer inode} for every unix socket, from ss."""
    r = subprocess.run(["ss", "-xan"], capture_output=True, text=True, timeout=30)
    peers = {}
    for line in r.stdout.splitlines()[1:]:
        f = line.split()
        # Netid State Recv-Q Send-Q Local Address Port Peer Address Port
        if len(f) >= 8 and f[5].isdigit() and f[7].isdigit():
            peers[int(f[5])] = int(f[7])
    return peers


class DescriptorHygiene(PosternTestCase):

    def start_full(self):
        ensure_system_user()
        srv = self.server(start=False)
        crt, key = tlsutil.make_cert(srv.dir)
        os.chmod(key, 0o600)
        srv.pop_port, srv.sub_port = free_port(), free_port()
        srv.extra += ["listen_pop3 = 127.0.0.1:%d" % srv.pop_port, "pop3_auth = any",
                      "listen_submission = 127.0.0.1:%d" % srv.sub_port,
                      "tls_cert = %s" % crt, "tls_key = %s" % key]
        srv.write_config()
        r = srv.user("passwd", "alice", "alice-secret", extra_args=["--apop"])
        self.assertEqual(r.returncode, 0, r.stderr)
        srv.start()
        srv.wait_listening(port=srv.pop_port)
        srv.wait_listening(port=srv.sub_port)
        return srv

    def test_every_process_holds_only_what_its_job_needs(self):
        srv = self.start_full()
        kids = children_from_log(srv)
        self.assertEqual(sorted(kids), ["auth", "pop3d", "queue", "smtpd"])
        role = {srv.pid: "master"}
        role.update({pid: name for name, pid in kids.items()})
        for pid in srv.pids():
            if pid not in role:
                st = open("/proc/%d/stat" % pid).read()
                ppid = int(st[st.rfind(")") + 2:].split()[1])
                self.assertEqual(ppid, kids["auth"], "unknown process %d" % pid)
                role[pid] = "hasher"
        self.assertEqual(sum(1 for r in role.values() if r == "hasher"), 2, role)

        # a client session open on each protocol: accepted sockets count too
        smtp = srv.raw(source="127.0.0.9")
        self.addCleanup(smtp.close)
        self.assertEqual(smtp.reply()[0], 220)
        pop = socket.create_connection(("127.0.0.1", srv.pop_port), timeout=10,
                                       source_address=("127.0.0.9", 0))
        self.addCleanup(pop.close)
        self.assertTrue(pop.recv(512).startswith(b"+OK"))
        spool = os.path.realpath(srv.spool)
        tables = {pid: fd_table(pid) for pid in role}
        peers = unix_peers()
        holders = {}
        for pid, table in tables.items():
            for fd, target, _ in table:
                m = re.match(r"socket:\[(\d+)\]$", target)
                if m:
                    holders.setdefault(int(m.group(1)), []).append(pid)
        report, bad = [], []
        for pid, table in sorted(tables.items()):
            name = role[pid]
            kinds = {}
            dirs = set()
            for fd, target, flags in table:
                kind = re.sub(r"\[\d+\]$", "", target)
                kinds[kind] = kinds.get(kind, 0) + 1
                if not flags & O_CLOEXEC:
                    bad.append("%s[%d] fd %d (%s) is not close-on-exec" % (name, pid, fd, target))
                if target.startswith("/") and os.path.isdir(target):
                    rel = os.path.relpath(target, spool)
                    dirs.add("" if rel == "." else rel)
                m = re.match(r"socket:\[(\d+)\]$", target)
                if m:
                    ino = int(m.group(1))
                    if ino in peers and len(holders[ino]) > 1:
                        bad.append("%s[%d] shares socket %d with %s" % (
                            name, pid, ino, [role[p] for p in holders[ino]]))
                    peer = peers.get(ino)
                    if peer is not None and peer != 0:
                        owners = {role[p] for p in holders.get(peer, [])}
                        if not owners:
                            continue    # a TCP listener or an outside peer
                        if not owners <= PEERS[name]:
                            bad.append("%s[%d] fd %d talks to %s" % (name, pid, fd, owners))
            report.append("%s[%d]: %s dirs=%s" % (name, pid, dict(sorted(kinds.items())),
                                                  sorted(dirs)))
            epolls = kinds.get("anon_inode:[eventpoll]", 0)
            if name == "hasher":
                if kinds != {"socket:": 1}:
                    bad.append("hasher[%d] holds %r, want one socket" % (pid, kinds))
            elif epolls != 1:
                bad.append("%s[%d] holds %d event bases (inherited?)" % (name, pid, epolls))
            want = DIRS[name]
            if want is not None and dirs != want:
                bad.append("%s[%d] directories %s, want %s" % (name, pid, sorted(dirs),
                                                              sorted(want)))
            if name == "queue" and not dirs <= {"", "incoming", "queue", "mail", "maildrop",
                                                "deferred", "corrupt"}:
                bad.append("queue[%d] directories %s" % (pid, sorted(dirs)))
        # TCP listeners: count the listening sockets each process holds
        listen = subprocess.run(["ss", "-tlnp"], capture_output=True, text=True,
                                timeout=30).stdout
        for pid, name in role.items():
            ports = set()
            for line in listen.splitlines():
                if "pid=%d," % pid in line:
                    ports.add(int(line.split()[3].rsplit(":", 1)[1]))
            want = {"master": {srv.port, srv.sub_port, srv.pop_port},
                    "smtpd": {srv.port, srv.sub_port},
                    "pop3d": {srv.pop_port}}.get(name, set())
            if ports != want:
                bad.append("%s[%d] listens on %s, want %s" % (name, pid, sorted(ports),
                                                             sorted(want)))
        print("\n  " + "\n  ".join(report))
        self.assertEqual(bad, [], "\n  ".join([""] + bad))


if __name__ == "__main__":
    unittest.main()
