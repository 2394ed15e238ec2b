"""postern sendmail: local submission through spool/maildrop, by root and
by an unprivileged user, with the server running or stopped; -t, -i, the
"sendmail" name, exit codes, and hostile maildrop files.  Loopback only:
every recipient here is local, or routed to a closed loopback port."""
import os
import pwd
import re
import shutil
import stat
import subprocess
import tempfile
import time

from harness import POSTERN, PosternTestCase, split_delivered

NOBODY = "nobody"
SETPRIV = shutil.which("setpriv")
# The system interpreter: a python3 earlier on PATH (pyenv under /root)
# may be one that nobody cannot run.
PYTHON_FOR_NOBODY = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) \
    else "python3"


def sendmail(args, data, conf=None, env=None, as_nobody=False, binary=POSTERN,
             argv0=None):
    cmd = [binary] + ([] if argv0 else ["sendmail"])
    if conf is not None:
        cmd += ["-C", conf]
    cmd += list(args)
    if as_nobody:
        cmd = [SETPRIV, "--reuid=" + NOBODY, "--regid=nogroup",
               "--clear-groups"] + cmd
    e = dict(os.environ)
    e.pop("POSTERN_CONF", None)
    e.update(env or {})
    return subprocess.run(cmd, input=data, capture_output=True, timeout=30,
                          env=e)


class Sendmail(PosternTestCase):

    def test_root_to_local_byte_for_byte(self):
        srv = self.server()
        msg = (b"From: Root <root@mydomain.test>\n"
               b"Date: Fri, 27 Nov 2026 20:34:30 +0000\n"
               b"Message-ID: <sm-1@mydomain.test>\n"
               b"Subject: byte for byte\n"
               b"\n"
               b"line 1\n"
               b"..two dots stay two\n"
               b"\xc3\xa9 8-bit \r\n"
               b"\n"
               b"last\n")
        r = sendmail(["-f", "root@mydomain.test", "alice"], msg, conf=srv.conf)
        self.assertEqual(r.returncode, 0, r.stderr)
        got = srv.wait_mails("alice", 1)
        self.assertEqual(len(got), 1, srv.log()[-2000:])
        rp, dt, rcv, rest = split_delivered(got[0])
        self.assertEqual(rp, b"Return-Path: <root@mydomain.test>")
        self.assertEqual(dt, b"Delivered-To: alice@mydomain.test")
        self.assertRegex(rcv, rb"^Received: by mx\.mydomain\.test \(postern sendmail, "
                              rb"uid 0\)\r\n\tid [0-9A-F]{19}; .*\r\n$")
        # Nothing added (From, Date, Message-ID present), LF -> CRLF only.
        self.assertEqual(rest, msg.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
        self.assertQueueEmpty(srv)
        self.assertEqual(os.listdir(os.path.join(srv.spool, "maildrop")), [])
        self.assertRegex(srv.log(), r"maildrop/[0-9A-F]{19} uid=0 user=root "
                                    r"from=<root@mydomain\.test> nrcpt=1")

    def test_spool_modes(self):
        srv = self.server()
        md = os.stat(os.path.join(srv.spool, "maildrop"))
        self.assertEqual(stat.S_IMODE(md.st_mode), 0o1733)
        self.assertEqual(md.st_uid, pwd.getpwnam("postern").pw_uid)
        self.assertEqual(stat.S_IMODE(os.stat(srv.spool).st_mode), 0o711)
        for sub in ("queue", "incoming", "mail", "hold", "deferred"):
            self.assertEqual(stat.S_IMODE(os.stat(os.path.join(srv.spool, sub)).st_mode),
                             0o700, sub)

    def test_headers_added_and_dot(self):
        srv = self.server()
        # Without -i a lone "." ends the message; From/Date/Message-ID added.
        r = sendmail(["-F", "Cron Daemon", "bob"],
                     b"Subject: cron\n\noutput\n.\nnot sent\n", conf=srv.conf)
        self.assertEqual(r.returncode, 0, r.stderr)
        got = srv.wait_mails("bob", 1)
        self.assertEqual(len(got), 1, srv.log()[-2000:])
        rest = split_delivered(got[0])[3]
        self.assertTrue(rest.startswith(b"Subject: cron\r\n"
                                        b"From: \"Cron Daemon\" <root@mydomain.test>\r\n"
                                        b"Date: "), rest)
        self.assertRegex(rest, rb"\r\nMessage-ID: <[0-9A-F]{19}\.[0-9a-f]{8}@mx\.mydomain\.test>\r\n\r\n")
        self.assertTrue(rest.endswith(b"\r\n\r\noutput\r\n"), rest)
        self.assertNotIn(b"not sent", rest)
        # With -oi the dot is content.
        r = sendmail(["-oi", "bob"], b"Subject: dots\n\na\n.\nb\n", conf=srv.conf)
        self.assertEqual(r.returncode, 0, r.stderr)
        got = srv.wait_mails("bob", 2, match=b"Subject: dots")
        self.assertEqual(len(got), 1, srv.log()[-2000:])
        self.assertTrue(got[0].endswith(b"\r\n\r\na\r\n.\r\nb\r\n"))

    def test_t_flag_and_bcc(self):
        srv = self.server()
        msg = (b"To: Alice <alice@mydomain.test>\n"
               b"Bcc: bob\n"
               b"Subject: extract\n\nhi\n")
        r = sendmail(["-t", "-i"], msg, env={"POSTERN_CONF": srv.conf})
        self.assertEqual(r.returncode, 0, r.stderr)
        for user in ("alice", "bob"):
            got = srv.wait_mails(user, 1, match=b"Subject: extract")
            self.assertEqual(len(got), 1, "%s: %s" % (user, srv.log()[-2000:]))
            self.assertNotIn(b"Bcc", got[0])
            self.assertIn(b"To: Alice <alice@mydomain.test>\r\n", got[0])
        # -t with nothing to extract: usage error, nothing dropped
        r = sendmail(["-t"], b"Subject: none\n\nx\n", conf=srv.conf)
        self.assertEqual(r.returncode, 64, r.stderr)

    def test_unprivileged_user(self):
        if SETPRIV is None:
            self.skipTest("setpriv not installed")
        try:
            nobody = pwd.getpwnam(NOBODY)
        except KeyError:
            self.skipTest("no user nobody")
        if os.geteuid() != 0:
            self.skipTest("needs root to switch to nobody")
        srv = self.server(start=False)
        # The harness directory is root-only; nobody needs a way in.
        pub = tempfile.mkdtemp(prefix="postern-pub-")
        self.addCleanup(shutil.rmtree, pub, True)
        os.chmod(pub, 0o755)
        srv.spool = os.path.join(pub, "spool")
        srv.write_config()
        conf = os.path.join(pub, "postern.conf")
        shutil.copy(srv.conf, conf)
        os.chmod(conf, 0o644)
        binary = os.path.join(pub, "postern")
        shutil.copy(POSTERN, binary)
        os.chmod(binary, 0o755)
        srv.start()
        msg = b"Subject: from nobody\n\nunprivileged\n"
        r = sendmail(["alice"], msg, conf=conf, as_nobody=True, binary=binary,
                     env={"HOME": "/"})
        self.assertEqual(r.returncode, 0, r.stderr)
        got = srv.wait_mails("alice", 1)
        self.assertEqual(len(got), 1, srv.log()[-2000:])
        rp, dt, rcv, rest = split_delivered(got[0])
        self.assertEqual(rp, b"Return-Path: <nobody@mydomain.test>")
        self.assertIn(b"(postern sendmail, uid %d)" % nobody.pw_uid, rcv)
        self.assertTrue(rest.startswith(b"Subject: from nobody\r\nFrom: "), rest)
        self.assertTrue(rest.endswith(b"\r\n\r\nunprivileged\r\n"), rest)
        self.assertIn("user=nobody", srv.log())
        # nobody cannot list the maildrop nor read the queue
        r = subprocess.run([SETPRIV, "--reuid=" + NOBODY, "--regid=nogroup",
                            "--clear-groups", "ls", os.path.join(srv.spool, "maildrop")],
                           capture_output=True)
        self.assertNotEqual(r.returncode, 0)
        r = subprocess.run([SETPRIV, "--reuid=" + NOBODY, "--regid=nogroup",
                            "--clear-groups", "ls", os.path.join(srv.spool, "queue")],
                           capture_output=True)
        self.assertNotEqual(r.returncode, 0)
        # A forged file: nobody claims to be root.  Rejected, kept aside.
        forged = ("POSTERN-MAILDROP 1\nuid 0\nfrom <root@mydomain.test>\n"
                  "rcpt <alice@mydomain.test>\n\nSubject: forged\r\n\r\nx\r\n")
        script = ("import os\n"
                  "p = %r\n"
                  "fd = os.open(p + '/.tmp.forged', os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)\n"
                  "os.write(fd, %r)\n"
                  "os.close(fd)\n"
                  "os.rename(p + '/.tmp.forged', p + '/0000019C7E3A1B2F4AF')\n"
                  % (os.path.join(srv.spool, "maildrop"), forged.encode()))
        r = subprocess.run([SETPRIV, "--reuid=" + NOBODY, "--regid=nogroup",
                            "--clear-groups", PYTHON_FOR_NOBODY, "-c", script],
                           capture_output=True, cwd="/")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(srv.wait_log(r"maildrop/0000019C7E3A1B2F4AF rejected \(uid line 0 "
                                     r"but the file belongs to uid %d\)" % nobody.pw_uid))
        self.assertTrue(os.path.exists(os.path.join(
            srv.spool, "corrupt", "maildrop-0000019C7E3A1B2F4AF")))
        time.sleep(0.3)
        self.assertEqual(len(srv.mails("alice")), 1)

    def test_server_stopped_then_started(self):
        srv = self.server()
        srv.stop()
        r = sendmail(["alice"], b"Subject: while stopped\n\nwaiting\n", conf=srv.conf)
        self.assertEqual(r.returncode, 0, r.stderr)
        waiting = os.listdir(os.path.join(srv.spool, "maildrop"))
        self.assertEqual(len(waiting), 1)
        self.assertRegex(waiting[0], r"^[0-9A-F]{19}$")
        time.sleep(0.2)
        self.assertEqual(srv.mails("alice"), {})
        srv.start()
        got = srv.wait_mails("alice", 1)
        self.assertEqual(len(got), 1, srv.log()[-2000:])
        self.assertIn(b"waiting\r\n", got[0])
        self.assertEqual(os.listdir(os.path.join(srv.spool, "maildrop")), [])

    def test_exit_75_without_maildrop(self):
        srv = self.server(start=False)          # never started: no spool yet
        r = sendmail(["alice"], b"x\n", conf=srv.conf)
        self.assertEqual(r.returncode, 75, r.stderr)
        self.assertIn(b"maildrop", r.stderr)
        # no config at all: also temporary
        r = sendmail(["alice"], b"x\n", env={"POSTERN_CONF": os.path.join(srv.dir, "nope")})
        self.assertEqual(r.returncode, 75, r.stderr)

    def test_exit_codes(self):
        srv = self.server()
        self.assertEqual(sendmail([], b"x\n", conf=srv.conf).returncode, 64)
        self.assertEqual(sendmail(["-bs"], b"", conf=srv.conf).returncode, 64)
        self.assertEqual(sendmail(["a@@b"], b"x\n", conf=srv.conf).returncode, 65)
        self.assertEqual(sendmail(["user%host@example.net"], b"x\n",
                                  conf=srv.conf).returncode, 65)
        self.assertEqual(sendmail(["alice"], b"a\0b\n", conf=srv.conf).returncode, 65)
        big = b"x" * 900 + b"\n"
        self.assertEqual(sendmail(["alice"], big * 1200, conf=srv.conf).returncode, 65)
        self.assertEqual(sendmail(["-bi"], b"", conf=srv.conf).returncode, 0)
        time.sleep(0.3)
        self.assertEqual(os.listdir(os.path.join(srv.spool, "maildrop")), [])
        self.assertEqual(srv.mails("alice"), {})

    def test_called_as_sendmail(self):
        srv = self.server()
        link = os.path.join(srv.dir, "sendmail")
        os.symlink(POSTERN, link)
        r = sendmail(["-i", "--", "bob"], b"Subject: via link\n\nx\n", conf=srv.conf,
                     binary=link, argv0=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(srv.wait_mails("bob", 1, match=b"via link")), 1,
                         srv.log()[-2000:])

    def test_remote_recipient_is_queued_for_relay(self):
        srv = self.server()
        r = sendmail(["someone@example.net"], b"Subject: out\n\nx\n", conf=srv.conf)
        self.assertEqual(r.returncode, 0, r.stderr)
        m = srv.wait_log(r"maildrop/[0-9A-F]{19} uid=0 user=root .* -> id=([0-9A-F]{19})")
        self.assertIsNotNone(m, srv.log()[-2000:])
        qid = m.group(1)
        # the local submission was authenticated by the kernel
        deadline = time.time() + 5
        env = b""
        while time.time() < deadline:
            try:
                env = srv.queue_file(qid).split(b"\n\n", 1)[0]
                break
            except FileNotFoundError:
                time.sleep(0.05)
        self.assertIn(b"\nclient local\nauth root\n", env)
        self.assertIn(b"\nrcpt P R - <someone@example.net>\n", env)
