"""Issue 9 item 5, written as the attack: a compromised smtpd (or anyone
who can write into spool/queue as the postern user) forges queue files.

Each forged file is written into incoming/ and renamed into queue/, exactly
as smtpd does, so the queue process sees IN_MOVED_TO.  A mailbox field of
`../../../../TMPDIR/x` used to make the queue process create TMPDIR/x/Maildir.
Now every field is checked with the rule of its writer; a bad file is
moved to spool/corrupt/ with `id=ID moved to corrupt/: REASON`, never
delivered, never bounced.  The server routes every remote domain to a
loopback sink (`route * = 127.0.0.1:SINK`, the harness default), and the
sink must see nothing from the forgeries.

Controls, so that a zero is not a broken forger or a dead sink: a forged
file that is well formed is delivered (its garbage deferred/ID file goes to
corrupt/ instead), a real message sent afterwards is delivered, and a real
remote message reaches the sink."""
import os
import pwd
import shutil
import tempfile
import time
import unittest

from harness import PosternTestCase, DOMAIN
from outbound_peers import PySink

_counter = [0]


def forge_id():
    """A well-formed queue id (queue.h: 14 + 5 upper-case hex digits)."""
    _counter[0] += 1
    return "%014X%05X" % (int(time.time() * 1e6) & 0xFFFFFFFFFFFFFF,
                          (0xAB000 + _counter[0]) & 0xFFFFF)


def envelope(qid, rcpts, helo="forger.test"):
    lines = ["POSTERN-QUEUE 1", "id " + qid, "time %d" % int(time.time()),
             "client 127.0.0.2", "auth -", "from <mallory@example.org>"]
    lines += rcpts
    lines.append("helo " + helo)
    body = ("Received: from forger.test\r\nSubject: forged %s\r\n\r\n"
            "forged body\r\n" % qid)
    return ("\n".join(lines) + "\n\n" + body).encode()


class ForgedQueueFiles(PosternTestCase):

    def setUp(self):
        self.srv = self.server()
        self.sink = PySink(host="127.0.0.1", port=self.srv.sink_port).start()
        self.addCleanup(self.sink.stop)
        pw = pwd.getpwnam("postern")
        self.uid, self.gid = pw.pw_uid, pw.pw_gid
        self.target = tempfile.mkdtemp(prefix="atk-")
        self.addCleanup(shutil.rmtree, self.target, True)
        # Make the traversal possible, as on a real host (/var/spool is
        # searchable): the harness directory is 0700 root, and the target
        # is writable by the postern user.  With these two, the code before
        # issue 9 wrote TARGET/x/Maildir/new/... (checked by hand).
        os.chmod(self.srv.dir, 0o711)
        os.chown(self.target, self.uid, self.gid)
        # Let the queue process settle (it creates corrupt/ at start).
        self.assertTrue(self.wait_path(os.path.join(self.srv.spool, "corrupt"), 10),
                        "spool/corrupt/ not created at queue process start")

    def wait_path(self, path, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if os.path.exists(path):
                return True
            time.sleep(0.05)
        return os.path.exists(path)

    def drop(self, qid, data, deferred=None):
        """Write as smtpd does: incoming/ID, fsync, rename into queue/."""
        spool = self.srv.spool
        if deferred is not None:
            dp = os.path.join(spool, "deferred", qid)
            with open(dp, "wb") as f:
                f.write(deferred)
            os.chown(dp, self.uid, self.gid)
        inc = os.path.join(spool, "incoming", qid)
        fd = os.open(inc, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chown(inc, self.uid, self.gid)
        os.rename(inc, os.path.join(spool, "queue", qid))

    def test_forged_queue_files_go_to_corrupt(self):
        srv = self.srv
        traversal = "../../../../" + self.target.lstrip("/") + "/x"
        self.assertLess(len(traversal), 64)
        good = "rcpt P L alice <alice@%s>" % DOMAIN
        cases = [
            ("traversal", ["rcpt P L %s <alice@%s>" % (traversal, DOMAIN)],
             {}, "bad rcpt mailbox"),
            ("slash", ["rcpt P L a/b <alice@%s>" % DOMAIN], {}, "bad rcpt mailbox"),
            ("bad address", [good, "rcpt P R - <evil@[1.2.3.4]%x>"], {},
             "bad rcpt address"),
            ("bad status", ["rcpt X R - <victim@example.net>"], {},
             "bad rcpt status"),
            ("oversize helo", [good], {"helo": "h" * 300}, "bad helo"),
        ]
        ids = {}
        for name, rcpts, kw, why in cases:
            qid = forge_id()
            ids[name] = (qid, why)
            self.drop(qid, envelope(qid, rcpts, **kw))
        # A well-formed envelope under another file name.
        qid, other = forge_id(), forge_id()
        ids["id mismatch"] = (qid, "id does not match the file name")
        self.drop(qid, envelope(other, [good]))

        corrupt = os.path.join(srv.spool, "corrupt")
        for name, (qid, why) in ids.items():
            self.assertTrue(self.wait_path(os.path.join(corrupt, qid), 15),
                            "%s: %s not moved to corrupt/" % (name, qid))
            m = srv.wait_log(r"id=%s moved to corrupt/: %s" % (qid, why), 5)
            self.assertIsNotNone(m, "%s: no corrupt/ log line with %r" % (name, why))
            self.assertFalse(os.path.exists(os.path.join(srv.queue_dir(), qid)))

        # Control: a well-formed forgery with a garbage deferred/ID is
        # delivered; its retry state is what goes to corrupt/.
        ok = forge_id()
        self.drop(ok, envelope(ok, [good]), deferred=b"next soon\n\x00junk")
        got = srv.wait_mails("alice", 1, 15, match=("forged %s" % ok).encode())
        self.assertEqual(len(got), 1, "a well-formed forged file was not delivered")
        self.assertTrue(self.wait_path(os.path.join(corrupt, ok + ".deferred"), 10),
                        "garbage deferred/%s not moved to corrupt/" % ok)
        self.assertIsNotNone(srv.wait_log(r"id=%s moved to corrupt/: " % ok, 5))

        # A real message afterwards: the queue process is alive and well.
        s = srv.smtp()
        s.sendmail("bob@%s" % DOMAIN, ["alice@%s" % DOMAIN],
                   b"Subject: after the attack\r\n\r\nhello\r\n")
        s.quit()
        self.assertEqual(len(srv.wait_mails("alice", 1, 15, match=b"after the attack")), 1)

        # Nothing outside the spool, no mailbox for a bad name, no bounce.
        self.assertEqual(os.listdir(self.target), [], "traversal target written")
        mail = os.path.join(srv.spool, "mail")
        self.assertEqual(sorted(n for n in os.listdir(mail)), ["alice"],
                         "a mailbox was created for a forged name")
        for qid, _ in ids.values():
            self.assertNotIn("id=%s to=" % qid, srv.log(), "a forged file was acted on")
        self.assertEqual(srv.wait_queue_empty(10), [], "something left queued (a bounce?)")
        with self.sink.lock:
            self.assertEqual(self.sink.connections, 0, "the sink was contacted")
        self.assertNotIn("forged", "".join(
            m.decode("latin-1") for m in srv.mails("alice").values()
            if b"forged " + ok.encode() not in m))

        # And the sink is alive: a real remote message reaches it.
        s = srv.smtp()
        s.sendmail("alice@%s" % DOMAIN, ["carol@example.net"],
                   b"Subject: sink check\r\n\r\nhello\r\n")
        s.quit()
        self.assertEqual(len(self.sink.wait_messages(1, 20)), 1, "sink never got mail")


if __name__ == "__main__":
    unittest.main()
