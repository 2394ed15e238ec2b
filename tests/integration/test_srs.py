"""SRS: an alias that forwards a stranger's mail to another domain sends
it with an SRS0 sender at our domain (the destination's SPF check sees
us); a bounce to that address is accepted and relayed back to the
original sender; a forged or altered SRS address is refused at RCPT.
Only loopback: a Python sink plays every other domain."""
import os
import re
import smtplib

from harness import PosternTestCase, DOMAIN
from outbound_peers import PySink


class Srs(PosternTestCase):

    def setUp(self):
        self.sink = PySink(host="127.0.0.12")
        self.sink.start()
        self.addCleanup(self.sink.stop)
        srv = self.server(start=False, omit=("route",), extra=[
            "route * = 127.0.0.12:%d" % self.sink.port,
            "dns_servers = 127.0.0.1:9"])
        apath = os.path.join(srv.dir, "aliases")
        with open(apath, "w") as f:
            f.write("fwd: bob@example.org\n")
        os.chmod(apath, 0o600)
        key = os.path.join(srv.dir, "srs.key")
        with open(key, "wb") as f:
            f.write(os.urandom(32))
        os.chmod(key, 0o600)      # root's: the server reads it before dropping privileges
        srv.extra += ["aliases = %s" % apath, "srs_secret = %s" % key]
        srv.write_config()
        srv.start()
        self.srv = srv

    def forward(self):
        c = self.srv.smtp(source="127.0.0.2")
        c.sendmail("carol@sender.example", ["fwd@" + DOMAIN],
                   b"From: carol@sender.example\r\nSubject: fw\r\n\r\ntok-fwd\r\n")
        c.quit()
        msgs = self.sink.wait_messages(1)
        self.assertEqual(len(msgs), 1, self.srv.log()[-3000:])
        self.assertEqual(msgs[0]["rcpts"], ["bob@example.org"])
        m = re.match(r"<(SRS0=[a-z2-7]{6}=[a-z2-7]{2}=sender\.example=carol@%s)>"
                     % re.escape(DOMAIN), msgs[0]["from"])
        self.assertIsNotNone(m, msgs[0]["from"])
        # Our verdict on the original (DNS here is 127.0.0.1:9: temperror)
        # travels with the forward.
        self.assertIn(b"Authentication-Results: mx.%s;" % DOMAIN.encode(),
                      msgs[0]["raw"])
        self.assertIn(b"smtp.mailfrom=carol@sender.example", msgs[0]["raw"])
        return m.group(1)

    def test_forward_carries_srs_and_bounce_returns(self):
        srs = self.forward()
        # The destination bounces to the SRS address: back to carol.
        c = self.srv.smtp(source="127.0.0.3")
        c.sendmail("", [srs], b"From: MAILER-DAEMON@example.org\r\n"
                   b"Subject: Undelivered\r\n\r\ntok-bounce\r\n")
        c.quit()
        msgs = self.sink.wait_messages(2)
        self.assertEqual(len(msgs), 2, self.srv.log()[-3000:])
        self.assertEqual(msgs[1]["rcpts"], ["carol@sender.example"])
        self.assertIn(b"tok-bounce", msgs[1]["raw"])
        # Mail mostly comes back lower-cased: still ours.
        c = self.srv.smtp(source="127.0.0.3")
        c.mail("<>")
        self.assertEqual(c.rcpt(srs.lower())[0], 250)
        c.quit()

    def test_forged_srs_refused(self):
        srs = self.forward()
        local, dom = srs.rsplit("@", 1)
        parts = local.split("=")
        forged = [
            "SRS0=aaaaaa=%s=sender.example=carol@%s" % (parts[2], dom),   # hash
            "=".join(parts[:3] + ["other.example", "carol"]) + "@" + dom,  # target
            "=".join(parts[:4] + ["mallory"]) + "@" + dom,
            "SRS0=garbage@" + dom,
        ]
        c = self.srv.smtp(source="127.0.0.3")
        c.mail("<>")
        for a in forged:
            code, text = c.rcpt(a)
            self.assertEqual(code, 550, a)
            self.assertIn(b"5.1.1", text)
        c.quit()
