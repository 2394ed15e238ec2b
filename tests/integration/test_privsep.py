"""Privilege separation and disk errors (issue 6, item 1), seen from
outside through /proc.

As root (the harness's usual case, spool under a root-only mkdtemp):
  * the master stays uid 0; smtpd, auth, queue and pop3d run as `postern`
    (all four uids and gids of /proc/PID/status, Groups: only its group,
    no capabilities);
  * everything in the spool belongs to `postern`;
  * the users and secrets files and the TLS key stay root-owned 0600 and
    no child holds them open (/proc/PID/fd);
  * the children are not dumpable: the `postern` user cannot read their
    /proc/PID/environ (it can read that of an ordinary process of its own,
    the control);
  * `user = nosuchuser` makes serve exit 78 naming `useradd --system`.
As nobody (setpriv --reuid=nobody --regid=nogroup --clear-groups), with its
files in a directory owned by nobody on unprivileged ports: SMTP delivery
and a POP3 login work and every process runs as nobody.
Disk errors: the spool is a 2 MB tmpfs mounted in a private mount
namespace (unshare -m); a message bigger than the free space gets a 4xx,
never 250; the server keeps serving; nothing accepted before is lost; a
Maildir delivery that hits ENOSPC leaves the message pending in the queue.
"""
import grp
import os
import poplib
import pwd
import re
import shutil
import smtplib
import subprocess
import time
import unittest

from harness import PosternTestCase, POSTERN, free_port, ensure_system_user
import tlsutil

IS_ROOT = os.geteuid() == 0


def status(pid):
    """/proc/PID/status as a dict of str -> str."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def ids(pid):
    st = status(pid)
    return ([int(x) for x in st["Uid"].split()], [int(x) for x in st["Gid"].split()],
            [int(x) for x in st["Groups"].split()], st.get("CapEff"), st.get("CapPrm"))


def comm(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            args = f.read().split(b"\0")
        return " ".join(a.decode("latin-1") for a in args[:2])
    except OSError:
        return "?"


def children_from_log(srv):
    """{name: pid} from the master's last "started smtpd[..] ..." line."""
    m = None
    deadline = time.time() + 5
    while time.time() < deadline:
        found = re.findall(r"started smtpd\[(\d+)\] auth\[(\d+)\] queue\[(\d+)\] pop3d\[(\d+)\]",
                           srv.log())
        if found:
            m = found[-1]
            break
        time.sleep(0.05)
    if m is None:
        return {}
    return dict(zip(("smtpd", "auth", "queue", "pop3d"), (int(x) for x in m)))


def can_unshare_mount():
    if not IS_ROOT or not shutil.which("unshare"):
        return False, "needs root and unshare(1)"
    r = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c",
                        "d=$(mktemp -d) && mount -t tmpfs -o size=1m tmpfs $d && umount $d"
                        " && rmdir $d"], capture_output=True, text=True)
    if r.returncode != 0:
        return False, "unshare -m / mount tmpfs not permitted here: %s" % r.stderr.strip()
    return True, ""


def send(srv, rcpts, body, source="127.0.0.1", sender="sender@example.org"):
    """(code, text) of the end of DATA, or of the first refusal."""
    c = smtplib.SMTP(srv.host, srv.port, local_hostname="privsep.test",
                     source_address=(source, 0), timeout=30)
    try:
        c.ehlo()
        code, text = c.mail(sender)
        if code != 250:
            return code, text
        for r in rcpts:
            code, text = c.rcpt(r)
            if code != 250:
                return code, text.decode("latin-1")
        code, text = c.data(body)
        return code, text.decode("latin-1") if isinstance(text, bytes) else text
    finally:
        try:
            c.quit()
        except (smtplib.SMTPException, OSError):
            c.close()


def pop_login_retr(port, user, password):
    p = poplib.POP3("127.0.0.1", port, timeout=10)
    try:
        p.user(user)
        p.pass_(password)
        n, _ = p.stat()
        data = b""
        if n:
            _, lines, _ = p.retr(1)
            data = b"\r\n".join(lines)
        p.quit()
        return n, data
    except Exception:
        p.close()
        raise


@unittest.skipUnless(IS_ROOT, "needs root: tests the drop from root to `postern`")
class PrivsepRoot(PosternTestCase):

    def start_full(self):
        ensure_system_user()
        pop_port = free_port()
        srv = self.server(start=False)
        crt, key = tlsutil.make_cert(srv.dir)
        os.chmod(key, 0o600)
        srv.extra += ["listen_pop3 = 127.0.0.1:%d" % pop_port, "pop3_auth = any",
                      "tls_cert = %s" % crt, "tls_key = %s" % key]
        srv.write_config()
        r = srv.user("passwd", "alice", "alice-secret", extra_args=["--apop"])
        self.assertEqual(r.returncode, 0, r.stderr)
        srv.start()
        srv.wait_listening(port=pop_port)
        srv.pop_port, srv.crt, srv.key = pop_port, crt, key
        return srv

    def test_children_dropped_files_closed_not_dumpable(self):
        srv = self.start_full()
        pw = pwd.getpwnam("postern")
        uid, gid = pw.pw_uid, pw.pw_gid
        # mail flows: SMTP in, Maildir, POP3 login (creates grants)
        code, text = send(srv, ["alice@mydomain.test"], b"Subject: privsep\r\n\r\nhello\r\n")
        self.assertEqual(code, 250, text)
        self.assertEqual(len(srv.wait_mails("alice", 1)), 1)
        n, data = pop_login_retr(srv.pop_port, "alice", "alice-secret")
        self.assertEqual(n, 1)
        self.assertIn(b"Subject: privsep", data)

        # the spool's parent is root-only (the harness's mkdtemp)
        st = os.stat(srv.dir)
        self.assertEqual((st.st_uid, st.st_mode & 0o777), (0, 0o700))

        kids = children_from_log(srv)
        self.assertEqual(sorted(kids), ["auth", "pop3d", "queue", "smtpd"], srv.log()[-2000:])
        mu, mg, _, mcap, _ = ids(srv.pid)
        self.assertEqual(mu, [0, 0, 0, 0], "master is not root")
        report = []
        for name, pid in sorted(kids.items()):
            u, g, groups, capeff, capprm = ids(pid)
            report.append("%s[%d] Uid=%s Gid=%s Groups=%s CapEff=%s" % (name, pid, u, g,
                                                                        groups, capeff))
            self.assertEqual(u, [uid] * 4, "%s: uids %r, want postern (%d)" % (name, u, uid))
            self.assertEqual(g, [gid] * 4, "%s: gids %r, want %d" % (name, g, gid))
            self.assertEqual(groups, [gid], "%s: supplementary groups %r" % (name, groups))
            self.assertEqual(int(capeff, 16), 0, "%s has capabilities %s" % (name, capeff))
            self.assertEqual(int(capprm, 16), 0, "%s has permitted caps %s" % (name, capprm))
        # helpers the children fork (hash workers, ...) run as postern too
        for pid in srv.pids():
            if pid != srv.pid and pid not in kids.values():
                u, g, groups, capeff, _ = ids(pid)
                report.append("helper %s[%d] Uid=%s Groups=%s" % (comm(pid), pid, u, groups))
                self.assertEqual(u, [uid] * 4, "helper %d runs as %r" % (pid, u))
                self.assertEqual(groups, [gid], "helper %d groups %r" % (pid, groups))
        print("\n  " + "\n  ".join(report))

        # everything in the spool belongs to postern
        foreign = []
        for root, dirs, files in os.walk(srv.spool):
            for n in [root] + [os.path.join(root, x) for x in dirs + files]:
                s = os.lstat(n)
                if s.st_uid != uid:
                    foreign.append((n, s.st_uid, s.st_gid))
        self.assertEqual(foreign, [], "spool entries not owned by postern")

        # root's files stay root's, 0600, and no child holds them open
        secrets = srv.users_path + ".secrets"
        self.assertTrue(os.path.exists(secrets), "no secrets file after passwd --apop")
        for path in (srv.users_path, secrets, srv.key):
            s = os.stat(path)
            self.assertEqual((s.st_uid, s.st_gid, s.st_mode & 0o7777), (0, 0, 0o600),
                             "%s is no longer root 0600" % path)
        secret_paths = {os.path.realpath(p) for p in (srv.users_path, secrets, srv.key,
                                                      srv.conf)}
        for name, pid in kids.items():
            fd_dir = "/proc/%d/fd" % pid
            for fd in os.listdir(fd_dir):
                try:
                    target = os.readlink(os.path.join(fd_dir, fd))
                except OSError:
                    continue
                self.assertNotIn(target, secret_paths, "%s[%d] holds %s open (fd %s)"
                                 % (name, pid, target, fd))

        # not dumpable: the postern user cannot read the children's environ
        # (the kernel checks ptrace access; a non-dumpable process needs
        # CAP_SYS_PTRACE), while it can read an ordinary process of its own.
        drop = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid, "--clear-groups"]
        control = subprocess.Popen(drop + ["sleep", "30"])
        try:
            time.sleep(0.2)
            r = subprocess.run(drop + ["cat", "/proc/%d/environ" % control.pid],
                               capture_output=True)
            self.assertEqual(r.returncode, 0, "control: postern cannot read its own "
                             "process's environ: %r" % r.stderr)
        finally:
            control.kill()
            control.wait()
        helpers = {"helper-%d" % p: p for p in srv.pids()
                   if p != srv.pid and p not in kids.values()}
        for name, pid in list(kids.items()) + list(helpers.items()):
            r = subprocess.run(drop + ["cat", "/proc/%d/environ" % pid], capture_output=True)
            self.assertNotEqual(r.returncode, 0, "%s[%d] is dumpable: its environ is "
                                "readable by the postern user" % (name, pid))
            self.assertIn(b"Permission denied", r.stderr)
            # the kernel hands /proc/PID of a non-dumpable process to root
            self.assertEqual(os.stat("/proc/%d/environ" % pid).st_uid, 0,
                             "%s: /proc/PID/environ not root-owned: dumpable" % name)

    def test_missing_user_exits_78(self):
        srv = self.server(start=False, extra=["user = nosuchuser"])
        try:
            r = subprocess.run([POSTERN, "serve", "-c", srv.conf], capture_output=True,
                               text=True, timeout=10, start_new_session=True)
        except subprocess.TimeoutExpired:
            self.fail("serve with user = nosuchuser did not exit within 10 s")
        self.assertEqual(r.returncode, 78, r.stderr)
        self.assertIn("useradd --system", r.stderr)
        self.assertIn("nosuchuser", r.stderr)


@unittest.skipUnless(IS_ROOT and shutil.which("setpriv"), "needs root and setpriv(1)")
class PrivsepNobody(PosternTestCase):

    def test_runs_as_nobody(self):
        nobody = pwd.getpwnam("nobody")
        nogroup = grp.getgrnam("nogroup").gr_gid
        pop_port = free_port()
        srv = self.server(start=False, extra=["listen_pop3 = 127.0.0.1:%d" % pop_port])
        # the binary must be reachable by nobody
        path = POSTERN
        while path != "/":
            path = os.path.dirname(path)
            self.assertTrue(os.stat(path).st_mode & 0o001,
                            "%s not searchable by nobody" % path)
        for root, dirs, files in os.walk(srv.dir):
            for n in [root] + [os.path.join(root, x) for x in dirs + files]:
                os.chown(n, nobody.pw_uid, nogroup)
        srv.wrapper = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
        srv.start()
        srv.wait_listening(port=pop_port)
        code, text = send(srv, ["alice@mydomain.test"], b"Subject: as nobody\r\n\r\nhi\r\n")
        self.assertEqual(code, 250, text)
        self.assertEqual(len(srv.wait_mails("alice", 1)), 1, "not delivered as nobody")
        n, data = pop_login_retr(pop_port, "alice", "alice-secret")
        self.assertEqual(n, 1)
        self.assertIn(b"Subject: as nobody", data)
        kids = children_from_log(srv)
        self.assertEqual(sorted(kids), ["auth", "pop3d", "queue", "smtpd"])
        pids = sorted(set([srv.pid] + list(kids.values()) + srv.pids()))
        print("\n  as nobody: %s" % ", ".join("%s[%d]" % (comm(p), p) for p in pids))
        for pid in pids:
            u, g, groups, capeff, _ = ids(pid)
            self.assertEqual(u, [nobody.pw_uid] * 4, "pid %d uids %r" % (pid, u))
            self.assertEqual(g, [nogroup] * 4, "pid %d gids %r" % (pid, g))
            self.assertEqual(groups, [], "pid %d groups %r" % (pid, groups))
        for root, dirs, files in os.walk(srv.spool):
            for n in dirs + files:
                self.assertEqual(os.lstat(os.path.join(root, n)).st_uid, nobody.pw_uid, n)


class PrivsepDiskFull(PosternTestCase):

    def setUp(self):
        ok, why = can_unshare_mount()
        if not ok:
            self.skipTest(why)

    def test_small_tmpfs_spool(self):
        srv = self.server(start=False, max_message_size=20000000,
                          extra=["retry_min = 1", "retry_max = 2"])
        os.mkdir(srv.spool, 0o700)
        srv.wrapper = ["unshare", "-m", "--propagation", "private", "sh", "-c",
                       'mount -t tmpfs -o size=2m,mode=0700 tmpfs "$0" && exec "$@"',
                       srv.spool]
        srv.start()
        real_spool = srv.spool
        # the tmpfs is only visible inside the server's mount namespace
        srv.spool = "/proc/%d/root%s" % (srv.pid, real_spool)
        try:
            self._disk_full(srv)
        finally:
            srv.spool = real_spool

    def _disk_full(self, srv):
        df = os.statvfs(srv.spool)
        self.assertLess(df.f_blocks * df.f_frsize, 3 * 1024 * 1024, "spool is not the tmpfs")
        acked = []
        for i in range(3):
            code, text = send(srv, ["alice@mydomain.test"],
                              b"Subject: small-%d\r\n\r\nsmall\r\n" % i)
            self.assertEqual(code, 250, text)
            acked.append(b"small-%d" % i)
        self.assertEqual(len(srv.wait_mails("alice", 3)), 3)
        # one acknowledged message that stays in queue/ (the route's sink
        # does not listen: deferred)
        code, text = send(srv, ["victim@example.net"], b"Subject: remote-1\r\n\r\nx\r\n")
        self.assertEqual(code, 250, text)
        remote_qid = re.search(r"queued as ([0-9A-F]{19})", text).group(1)

        # 3 MB into a 2 MB spool: a temporary failure, never a 250
        big = b"Subject: too-big\r\n\r\n" + (b"B" * 998 + b"\r\n") * 3000
        code, text = send(srv, ["alice@mydomain.test"], big)
        print("\n  disk full at DATA: %d %s" % (code, text))
        self.assertTrue(400 <= code < 500, "3 MB into a 2 MB spool got %d %r, want 4xx"
                        % (code, text))
        self.assertTrue(srv.wait_log(r"(?i)(no space|ENOSPC|disk)", 2),
                        "no log line about the full disk")
        self.assertEqual(srv.incoming_ids(), [], "incoming/ keeps the refused message")

        # the server keeps serving
        code, text = send(srv, ["alice@mydomain.test"], b"Subject: after-full\r\n\r\nok\r\n")
        self.assertEqual(code, 250, "after a full disk: %d %r" % (code, text))
        acked.append(b"after-full")
        self.assertEqual(len(srv.wait_mails("alice", 4)), 4)

        # a message that fits in queue/ but not twice: the Maildir delivery
        # hits ENOSPC and the message must stay pending, not vanish
        mid = b"Subject: mid-1\r\n\r\n" + (b"M" * 998 + b"\r\n") * 1150      # ~1.15 MB
        code, text = send(srv, ["alice@mydomain.test"], mid)
        print("  1.15 MB message: %d %s" % (code, text))
        mid_qid = None
        if code == 250:
            mid_qid = re.search(r"queued as ([0-9A-F]{19})", text).group(1)
            time.sleep(2.5)
            got = [m for m in srv.mails("alice").values() if b"Subject: mid-1" in m]
            if not got:
                self.assertIn(mid_qid, srv.queue_ids(), "1.15 MB message acknowledged, "
                              "not delivered and gone from the queue: lost")
                self.assertIn(b"\nrcpt P L alice", srv.queue_file(mid_qid))
            else:
                self.assertTrue(got[0].endswith(b"M" * 998 + b"\r\n"), "truncated in Maildir")
        else:
            self.assertTrue(400 <= code < 500, "1.15 MB message got %d %r" % (code, text))

        # still serving, and nothing accepted earlier is lost
        code, text = send(srv, ["alice@mydomain.test"], b"Subject: last\r\n\r\nok\r\n")
        self.assertEqual(code, 250, "%d %r" % (code, text))
        acked.append(b"last")
        mails = srv.wait_mails("alice", len(acked), match=None, timeout=5)
        for tag in acked:
            self.assertTrue([m for m in mails if b"Subject: " + tag + b"\r\n" in m],
                            "acknowledged %s is not in the Maildir" % tag.decode())
        for m in srv.mails("alice").values():
            self.assertNotIn(b"Subject: too-big", m)
        self.assertIn(remote_qid, srv.queue_ids(), "the deferred remote message is gone")
        n_tmp = len(os.listdir(os.path.join(srv.maildir("alice"), "tmp")))
        self.assertEqual(n_tmp, 0, "Maildir tmp/ keeps a partial file after ENOSPC")
        print("  tmpfs spool: %d acknowledged small messages delivered, remote %s kept, "
              "mid-size %s" % (len(acked), remote_qid,
                               "pending " + mid_qid if mid_qid and mid_qid in srv.queue_ids()
                               else "done/refused"))
