"""postern queue list|flush|delete|hold|release against messages that wait
for a remote destination that is down (route * = 127.0.0.1:<closed port>),
with the server running and stopped.  Loopback only."""
import os
import re
import time

from harness import PosternTestCase, run_postern
from outbound_peers import PySink


class QueueAdmin(PosternTestCase):

    def queue(self, srv, *args):
        return run_postern(["queue", "-c", srv.conf] + list(args))

    def deferred_msgs(self, srv, n, subjects=None):
        """Send n messages to example.net and wait until each was tried
        once (deferred/ID written with an error)."""
        ids = []
        for i in range(n):
            c = srv.smtp()
            c.sendmail("alice@mydomain.test", ["bob@example.net", "carol@example.net"],
                       b"Subject: wait-%d\r\n\r\nbody\r\n" % i)
            c.quit()
        ddir = os.path.join(srv.spool, "deferred")

        def tried(q):
            try:
                with open(os.path.join(ddir, q)) as f:
                    return re.search(r"(?m)^error 0 ", f.read()) is not None
            except FileNotFoundError:
                return False
        # A condition, not a time: on a loaded machine (the sanitizer
        # build) the first attempts may take many seconds.
        deadline = time.time() + 60
        while time.time() < deadline:
            ids = srv.queue_ids()
            if len(ids) == n and all(tried(q) for q in ids):
                break
            time.sleep(0.05)
        self.assertEqual(len(srv.queue_ids()), n, srv.log()[-3000:])
        for q in srv.queue_ids():
            self.assertTrue(tried(q), "deferred/%s: no attempt recorded\n%s"
                            % (q, srv.log()[-3000:]))
        return sorted(srv.queue_ids())

    def test_list(self):
        srv = self.server()
        r = self.queue(srv, "list")
        self.assertEqual((r.returncode, r.stdout), (0, "Mail queue is empty\n"))
        ids = self.deferred_msgs(srv, 2)
        r = self.queue(srv)                      # list is the default
        self.assertEqual(r.returncode, 0, r.stderr)
        for qid in ids:
            self.assertRegex(r.stdout, r"(?m)^%s  +\d+ +\d+[smh]  <alice@mydomain\.test>"
                                       r"  \(attempts 1, next in \d+[smh]\)$" % qid)
        self.assertEqual(len(re.findall(r"(?m)^      <bob@example\.net>: \S.*$", r.stdout)),
                         2, r.stdout)
        self.assertEqual(len(re.findall(r"(?m)^      <carol@example\.net>: \S.*$", r.stdout)),
                         2, r.stdout)
        self.assertIn("-- 2 messages (0 held)", r.stdout)
        # also while the server is stopped
        srv.stop()
        r2 = self.queue(srv, "list")
        self.assertEqual(r2.returncode, 0, r2.stderr)
        for qid in ids:
            self.assertIn(qid, r2.stdout)

    def test_hold_release_delete(self):
        srv = self.server()
        a, b = self.deferred_msgs(srv, 2)
        r = self.queue(srv, "hold", a)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(os.path.exists(os.path.join(srv.spool, "hold", a)))
        self.assertEqual(srv.queue_ids(), [b])
        r = self.queue(srv, "list")
        self.assertRegex(r.stdout, r"(?m)^%s! .*\(held\)$" % a)
        self.assertIn("(1 held)", r.stdout)
        # a flush does not touch held messages
        n_before = srv.log().count("id=%s to=<bob@example.net>" % a)
        self.assertEqual(self.queue(srv, "flush").returncode, 0)
        time.sleep(1.0)
        self.assertEqual(srv.log().count("id=%s to=<bob@example.net>" % a), n_before)
        # release: back in queue/, tried again at once
        r = self.queue(srv, "release", a)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sorted(srv.queue_ids()), [a, b])
        self.assertFalse(os.path.exists(os.path.join(srv.spool, "hold", a)))
        deadline = time.time() + 5
        while time.time() < deadline and \
                srv.log().count("id=%s to=<bob@example.net>" % a) <= n_before:
            time.sleep(0.05)
        self.assertGreater(srv.log().count("id=%s to=<bob@example.net>" % a), n_before)
        # ... and its new retry state is saved (a delete while an attempt
        # is in flight could see the queue process write it back).
        dpath = os.path.join(srv.spool, "deferred", a)
        deadline = time.time() + 5
        while time.time() < deadline:
            with open(dpath) as f:
                if re.search(r"(?m)^attempts 2$", f.read()):
                    break
            time.sleep(0.05)
        self.assertEqual(self.queue(srv, "release", a).returncode, 1)   # not held
        # delete: queue file and retry state
        r = self.queue(srv, "delete", a)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(srv.queue_ids(), [b])
        self.assertFalse(os.path.exists(os.path.join(srv.spool, "deferred", a)))
        self.assertEqual(self.queue(srv, "delete", a).returncode, 1)
        # a held message, server stopped: delete works too
        self.assertEqual(self.queue(srv, "hold", b).returncode, 0)
        srv.stop()
        self.assertEqual(self.queue(srv, "delete", b).returncode, 0)
        self.assertEqual(os.listdir(os.path.join(srv.spool, "hold")), [])
        srv.start()
        self.assertEqual(self.queue(srv, "list").stdout, "Mail queue is empty\n")

    def test_bad_ids_and_usage(self):
        srv = self.server()
        for bad in ("../postern.conf", "x", ".flush", "0000019c7e3a1b2f4a1",
                    "0000019C7E3A1B2F4A1/..", ""):
            for cmd in ("delete", "hold", "release"):
                r = self.queue(srv, cmd, bad)
                self.assertEqual(r.returncode, 1, (cmd, bad, r.stderr))
        self.assertTrue(os.path.exists(srv.conf))
        self.assertEqual(self.queue(srv, "delete", "0000019C7E3A1B2F4A1").returncode, 1)
        for args in (("frobnicate",), ("delete",), ("list", "0000019C7E3A1B2F4A1")):
            r = self.queue(srv, *args)
            self.assertEqual(r.returncode, 64, (args, r.stderr))      # usage
            self.assertIn("usage: postern queue", r.stderr)
        if not os.path.exists("/etc/postern/postern.conf"):
            r = run_postern(["queue", "list"])      # no -c: the default config
            self.assertEqual(r.returncode, 78, r.stderr)
            self.assertIn("/etc/postern/postern.conf", r.stderr)

    def test_flush_delivers_when_destination_is_back(self):
        srv = self.server()
        ids = self.deferred_msgs(srv, 2)
        for qid in ids:
            with open(os.path.join(srv.spool, "deferred", qid)) as f:
                m = re.search(r"(?m)^next (\d+)$", f.read())
            self.assertGreater(int(m.group(1)), time.time() + 10)  # not soon
        sink = PySink(host="127.0.0.1", port=srv.sink_port)
        sink.start()
        self.addCleanup(sink.stop)
        time.sleep(0.5)
        self.assertEqual(sink.messages, [])      # nobody retries by itself yet
        r = self.queue(srv, "flush")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("flush: 2 deferred messages due now", r.stdout)
        self.assertFalse(os.path.exists(os.path.join(srv.queue_dir(), ".flush")))
        msgs = sink.wait_messages(2, 10)
        self.assertEqual(len(msgs), 2, srv.log()[-3000:])
        self.assertEqual(srv.wait_queue_empty(10), [], srv.log()[-3000:])
        self.assertEqual(self.queue(srv, "list").stdout, "Mail queue is empty\n")

    def test_flush_while_stopped_keeps_owner(self):
        srv = self.server()
        ids = self.deferred_msgs(srv, 1)
        srv.stop()
        path = os.path.join(srv.spool, "deferred", ids[0])
        st = os.stat(path)
        r = self.queue(srv, "flush")
        self.assertEqual(r.returncode, 0, r.stderr)
        st2 = os.stat(path)
        self.assertEqual((st2.st_uid, st2.st_gid, st2.st_mode),
                         (st.st_uid, st.st_gid, st.st_mode))
        with open(path) as f:
            self.assertRegex(f.read(), r"(?m)^next 0$")
        sink = PySink(host="127.0.0.1", port=srv.sink_port)
        sink.start()
        self.addCleanup(sink.stop)
        srv.start()
        self.assertEqual(len(sink.wait_messages(1, 10)), 1, srv.log()[-3000:])
        self.assertEqual(srv.wait_queue_empty(10), [])

    def test_sendmail_then_queue_list(self):
        """Local submission to a remote recipient shows up in the queue."""
        srv = self.server()
        r = run_postern(["sendmail", "-C", srv.conf, "-f", "root@mydomain.test",
                         "far@example.net"], stdin="Subject: s\n\nx\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        deadline = time.time() + 10
        out = ""
        while time.time() < deadline:
            out = self.queue(srv, "list").stdout
            if "<far@example.net>: " in out:
                break
            time.sleep(0.1)
        self.assertRegex(out, r"<root@mydomain\.test>")
        self.assertIn("<far@example.net>: ", out)
