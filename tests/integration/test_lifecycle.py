"""Server lifecycle: SIGTERM, SIGKILL of the master, restarts on the same port."""
import os
import signal
import time

from harness import PosternTestCase


def cpu_ticks(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except OSError:
        return 0


class Lifecycle(PosternTestCase):

    def test_sigterm_exits_and_port_is_free(self):
        srv = self.server()
        self.assertGreaterEqual(len(srv.pids()), 2, "expected a master and children")
        ok, dt, rc = srv.stop(5.0)
        self.assertTrue(ok, "no exit within 5 s of SIGTERM")
        self.assertEqual(rc, 0, "exit status after SIGTERM")
        gone, left = srv.wait_no_processes(1.0)
        self.assertTrue(gone, "left after SIGTERM: %r" % left)
        self.assertTrue(srv.wait_log(r"stop", 1))
        srv.start()                 # same config, same port
        c = srv.smtp()
        c.quit()

    def test_sigterm_with_open_sessions(self):
        srv = self.server()
        idle = srv.raw()
        idle.reply()
        mid = srv.raw()
        mid.reply()
        mid.cmd("EHLO x")
        mid.cmd("MAIL FROM:<a@example.org>")
        mid.cmd("RCPT TO:<alice@mydomain.test>")
        mid.cmd("DATA")
        mid.send(b"Subject: half\r\n\r\nnot finished\r\n")
        try:
            ok, dt, rc = srv.stop(5.0)
            self.assertTrue(ok, "no exit within 5 s of SIGTERM with open sessions")
            gone, left = srv.wait_no_processes(1.0)
            self.assertTrue(gone, left)
        finally:
            idle.close()
            mid.close()
        srv.start()
        time.sleep(0.3)
        self.assertEqual(srv.mails("alice"), {})
        self.assertEqual(srv.queue_ids(), [])

    def test_sigterm_with_remote_mail_queued(self):
        srv = self.server()
        c = srv.smtp()
        c.sendmail("alice@mydomain.test", ["bob@example.net"], b"Subject: r\r\n\r\nx\r\n")
        c.quit()
        self.assertTrue(srv.wait_log(r"status=deferred", 3))
        ok, dt, rc = srv.stop(5.0)
        self.assertTrue(ok, "no exit within 5 s of SIGTERM")
        self.assertLess(dt, 2.0, "SIGTERM took %.1f s with a deferred message queued" % dt)

    def test_queue_process_idle_with_deferred_mail(self):
        # a message waiting for outbound delivery must not keep a CPU busy
        srv = self.server()
        c = srv.smtp()
        c.sendmail("alice@mydomain.test", ["bob@example.net"], b"Subject: r\r\n\r\nx\r\n")
        c.quit()
        self.assertTrue(srv.wait_log(r"status=deferred", 3))
        time.sleep(0.3)
        pids = srv.pids()
        before = {p: cpu_ticks(p) for p in pids}
        time.sleep(1.5)
        used = {p: cpu_ticks(p) - before[p] for p in pids}
        hz = os.sysconf("SC_CLK_TCK")
        busy = {p: t / hz for p, t in used.items() if t / hz > 0.3}
        self.assertEqual(busy, {}, "processes busy while idle (CPU seconds in 1.5 s): %r" % busy)
        # and deferred is logged once, not once per rescan
        self.assertEqual(srv.log().count("status=deferred"), 1, "status=deferred logged repeatedly")

    def test_sigkill_master_children_exit(self):
        srv = self.server()
        children = [p for p in srv.pids() if p != srv.pid]
        self.assertTrue(children)
        srv.kill_master()
        gone, left = srv.wait_no_processes(1.0)
        if not gone:
            srv.kill_group()
        self.assertTrue(gone, "children %r still alive 1 s after SIGKILL of the master" % left)
        srv.start()                 # can bind the same port again
        c = srv.smtp()
        c.sendmail("a@example.org", ["alice@mydomain.test"], b"Subject: tok-after-kill\r\n\r\nx\r\n")
        c.quit()
        self.assertEqual(len(srv.wait_mails("alice", 1, match=b"tok-after-kill")), 1)

    def test_sigkill_group_restart(self):
        srv = self.server()
        for _ in range(3):
            srv.kill_group()
            gone, left = srv.wait_no_processes(1.0)
            self.assertTrue(gone, left)
            srv.start()
        c = srv.smtp()
        c.quit()

    def test_child_killed_is_handled(self):
        # a child that dies is restarted, or the whole server stops; it never
        # keeps running half-alive (no SMTP, no user lookups, no deliveries)
        for child in ("smtpd", "auth", "queue"):
            with self.subTest(child=child):
                srv = self.server()
                m = srv.wait_log(r"started .*%s\[(\d+)\]" % child, 1)
                self.assertTrue(m, "no 'started %s[PID]' in the log" % child)
                os.kill(int(m.group(1)), signal.SIGKILL)
                tok = ("tok-after-%s" % child).encode()
                deadline = time.time() + 5
                ok = False
                while time.time() < deadline:
                    if not srv.running():
                        ok = True       # the master gave up: acceptable
                        break
                    try:
                        c = srv.smtp(timeout=2)
                        c.sendmail("a@example.org", ["alice@mydomain.test"],
                                   b"Subject: " + tok + b"\r\n\r\nx\r\n")
                        c.quit()
                    except Exception:
                        time.sleep(0.2)
                        continue
                    ok = len(srv.wait_mails("alice", 1, timeout=max(0.1, deadline - time.time()),
                                            match=tok)) >= 1
                    break
                self.assertTrue(ok, "%s killed: server neither recovered (message delivered) "
                                "nor exited within 5 s" % child)

    def test_bad_config_does_not_start(self):
        srv = self.server(start=False)
        with open(srv.conf, "a") as f:
            f.write("no_such_key = 1\n")
        srv.start(wait=False)
        try:
            rc = srv.proc.wait(5)
        except Exception:
            rc = None
        self.assertIsNotNone(rc, "serve with a bad config kept running")
        self.assertNotEqual(rc, 0)
        self.assertIn("no_such_key", srv.log())
        import socket
        with socket.socket() as s:
            s.settimeout(1)
            self.assertNotEqual(s.connect_ex((srv.host, srv.port)), 0,
                                "port bound by a server with a bad config")

    def test_spool_subdirectories_created(self):
        srv = self.server()
        for d in ("queue", "incoming"):
            self.assertTrue(os.path.isdir(os.path.join(srv.spool, d)), d)
