"""Messages queued for a destination that is down survive a restart and
are delivered exactly once when it comes up (loopback only)."""
import os
import re
import time

from harness import PosternTestCase
from outbound_peers import PySink


class OutboundRestart(PosternTestCase):

    def test_down_restart_up_exactly_once(self):
        sink = PySink(host="127.0.0.13")          # not started yet: refused
        self.addCleanup(sink.stop)
        srv = self.server(omit=("route",), extra=[
            "route example.org = 127.0.0.13:%d" % sink.port, "dns_servers = 127.0.0.1:9",
            "retry_min = 1", "retry_max = 2", "remote_max_per_destination = 1"])
        for i in range(5):
            c = srv.smtp()
            c.sendmail("alice@mydomain.test", ["x@example.org"],
                       b"Subject: tok-restart-%d\r\n\r\nbody %d\r\n" % (i, i))
            c.quit()
        deadline = time.time() + 10
        while time.time() < deadline and srv.log().count("status=deferred") < 5:
            time.sleep(0.05)
        self.assertGreaterEqual(srv.log().count("status=deferred"), 5, srv.log()[-3000:])
        self.assertEqual(len(srv.queue_ids()), 5)
        srv.kill_group()
        self.assertEqual(len(os.listdir(os.path.join(srv.spool, "deferred"))), 5)
        srv.start()
        sink.start()
        msgs = sink.wait_messages(5, 15)
        self.assertEqual(len(srv.wait_queue_empty(10)), 0, srv.log()[-3000:])
        time.sleep(2.5)                             # one more retry period
        subjects = sorted(re.search(rb"tok-restart-\d", m["raw"]).group(0)
                          for m in sink.messages)
        self.assertEqual(subjects, [b"tok-restart-%d" % i for i in range(5)])
        # connection reuse: one connection allowed, five messages on it
        self.assertLess(sink.connections, 5)
        self.assertEqual(os.listdir(os.path.join(srv.spool, "deferred")), [])

    def test_flush_file_retries_now(self):
        sink = PySink(host="127.0.0.14")
        self.addCleanup(sink.stop)
        srv = self.server(omit=("route",), extra=[
            "route example.org = 127.0.0.14:%d" % sink.port, "dns_servers = 127.0.0.1:9"])
        c = srv.smtp()
        c.sendmail("alice@mydomain.test", ["x@example.org"], b"Subject: tok-flush\r\n\r\nx\r\n")
        c.quit()
        self.assertTrue(srv.wait_log(r"status=deferred", 5))
        qid = srv.queue_ids()[0]
        dpath = os.path.join(srv.spool, "deferred", qid)
        deadline = time.time() + 3
        while not os.path.exists(dpath) and time.time() < deadline:
            time.sleep(0.05)
        # what `postern queue flush` does: next 0 everywhere, then queue/.flush
        with open(dpath) as f:
            text = f.read()
        with open(dpath, "w") as f:
            f.write(re.sub(r"(?m)^next \d+$", "next 0", text))
        sink.start()
        flush = os.path.join(srv.queue_dir(), ".flush")
        with open(flush, "w") as f:
            f.write("")
        os.unlink(flush)
        self.assertEqual(len(sink.wait_messages(1, 5)), 1, srv.log()[-3000:])
        self.assertEqual(len(srv.wait_queue_empty(5)), 0)
