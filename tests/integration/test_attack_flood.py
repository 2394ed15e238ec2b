"""Issue 9 item 4, as the attack: a flood of idle strangers on the MX port
(many source addresses, so the per-client limit does not stop them) must
not lock out local clients, submission clients, or the next stranger.

Config: max_sessions = 60, reserved_sessions = 20, so strangers may hold
40 sessions on the MX listener. The flood opens 40 idle sessions from
127.0.0.2..41 (one each); then:
  - a local client (127.0.0.1) on the MX port is served a whole message;
  - a submission client (a stranger's address) gets its 220 and EHLO;
  - a 41st stranger on the full MX port gets 220: the idlest stranger
    (the first one, which never sent a byte) is told 421 4.7.0 and closed;
  - a stranger that keeps talking is not the one evicted."""
import time
import unittest

from harness import PosternTestCase, free_port, DOMAIN
from tlsutil import make_cert
from test_limits import open_smtp, close_all, served, settle


class Flood(PosternTestCase):

    def test_flood_on_mx_port_does_not_starve_others(self):
        sub_port = free_port()
        srv = self.server(start=False)
        crt, key = make_cert(srv.dir)
        srv.extra += ["max_sessions = 60", "reserved_sessions = 20",
                      "listen_submission = 127.0.0.1:%d" % sub_port,
                      "tls_cert = %s" % crt, "tls_key = %s" % key]
        srv.write_config()
        srv.start()
        srv.wait_listening(port=sub_port)
        settle(srv)
        flood = []
        try:
            for i in range(40):
                flood.extend(open_smtp(srv, "127.0.0.%d" % (2 + i), 1))
            # keep one stranger busy: it must not be the one evicted
            busy = flood[0]
            time.sleep(1.1)     # make the others measurably idle (1 s clock)
            self.assertEqual(busy.cmd("NOOP")[0], 250)
            # local clients have the reserve
            self.assertTrue(served(srv, "127.0.0.1"))
            # submission has its own pool
            from harness import RawClient
            sub = RawClient("127.0.0.1", sub_port, source="127.0.0.99")
            code, text = sub.reply()
            self.assertEqual(code, 220, text)
            self.assertEqual(sub.cmd("EHLO roaming.test")[0], 250)
            sub.close()
            # a new stranger on the full MX port: the idlest makes room
            newcomer = srv.raw(source="127.0.0.77")
            code, text = newcomer.reply()
            self.assertEqual(code, 220, text)
            self.assertTrue(srv.wait_log(r"evicted: idle for \d+s"))
            deadline = time.time() + 10
            evicted = []
            while not evicted and time.time() < deadline:
                evicted = [c for c in flood[1:] if c.wait_closed(0.01)]
            time.sleep(0.2)     # a second eviction would show up by now
            evicted = [c for c in flood[1:] if c.wait_closed(0.01)]
            self.assertEqual(len(evicted), 1, "exactly one idle stranger makes room")
            self.assertIn(b"421 4.7.0", bytes(evicted[0].buf))
            self.assertEqual(busy.cmd("NOOP")[0], 250, "the active stranger was evicted")
            self.assertEqual(newcomer.cmd("EHLO new.test")[0], 250)
            newcomer.close()
        finally:
            close_all(flood)


if __name__ == "__main__":
    unittest.main()
