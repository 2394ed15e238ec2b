"""DNS blocklists in smtpd, with a loopback dnsmasq listing 127.0.0.2 in
bl.test: the listed client is refused at the greeting (554 5.7.1 with the
list's TXT, or 451 4.7.1 with dnsbl_tempfail) or, with dnsbl_reject_at =
rcpt, at each RCPT but postmaster's; RBLSMTPD="" in relay_rules,
local_networks and dnsbl_allow are never checked; a zone that does not
answer lets the client in. Only loopback."""
import os
import socket
import time
import unittest

from harness import PosternTestCase, DOMAIN
from outbound_peers import Dnsmasq, DNSMASQ

# (dnsmasq takes a comma as a string boundary: none in the text)
REASON = "Listed for testing; see http://bl.test/"


@unittest.skipUnless(os.path.exists(DNSMASQ), "dnsmasq not installed (make deps)")
class Blocklists(PosternTestCase):

    @classmethod
    def setUpClass(cls):
        cls.dns = Dnsmasq([
            "--local=/bl.test/",
            "--host-record=2.0.0.127.bl.test,127.0.0.2",
            "--txt-record=2.0.0.127.bl.test,%s" % REASON,
        ]).start()

    @classmethod
    def tearDownClass(cls):
        cls.dns.stop()

    def srv(self, *extra, dns=None, **kw):
        return self.server(extra=["dns_servers = %s" % (dns or self.dns.server),
                                  "verify_incoming = no",
                                  "dnsbl bl.test"] + list(extra), **kw)

    def greeting(self, srv, source="127.0.0.2", timeout=10.0):
        c = srv.raw(source=source, timeout=timeout)
        code, text = c.reply()
        return c, code, text

    def test_listed_client_refused_at_greeting(self):
        srv = self.srv()
        c, code, text = self.greeting(srv)
        self.assertEqual(code, 554, text)
        self.assertEqual(text, "5.7.1 Service unavailable; client [127.0.0.2] "
                         "blocked using bl.test: " + REASON)
        self.assertTrue(c.wait_closed())
        c.close()
        self.assertTrue(srv.wait_log(r"dnsbl bl\.test listed \[127\.0\.0\.2\] "
                                     r"\(Listed for testing;"))
        self.assertTrue(srv.wait_log(r'reject client=\[127\.0\.0\.2\] '
                                     r'reply="554 5\.7\.1" rule="dnsbl bl\.test"'))

    def test_unlisted_client_greeted(self):
        srv = self.srv()
        c, code, text = self.greeting(srv, source="127.0.0.3")
        self.assertEqual(code, 220, text)
        c.close()
        self.assertNotIn("listed", srv.log())

    def test_tempfail(self):
        srv = self.srv("dnsbl_tempfail = yes")
        c, code, text = self.greeting(srv)
        self.assertEqual(code, 451, text)
        self.assertTrue(text.startswith("4.7.1 Service unavailable"), text)
        c.close()

    def test_rblsmtpd_empty_never_checked(self):
        srv = self.srv(relay_rules='127.0.0.2:allow,RBLSMTPD=""\n')
        c, code, text = self.greeting(srv)
        self.assertEqual(code, 220, text)
        self.assertEqual(c.cmd("EHLO client.test")[0], 250)
        self.assertEqual(c.cmd("MAIL FROM:<s@client.test>")[0], 250)
        self.assertEqual(c.cmd("RCPT TO:<alice@%s>" % DOMAIN)[0], 250)
        c.close()
        self.assertNotIn("dnsbl", srv.log())

    def test_exempt_networks(self):
        for extra, kw in ((["dnsbl_allow = 127.0.0.0/30"], {}),
                          ([], {"local_networks": "127.0.0.0/8"}),
                          ([], {"relay_rules": '127.0.0.2:allow,RELAYCLIENT=""\n'})):
            srv = self.srv(*extra, **kw)
            c, code, text = self.greeting(srv)
            self.assertEqual(code, 220, (extra, kw, text))
            c.close()
            self.assertNotIn("listed", srv.log())

    def test_weights_below_threshold_greet(self):
        # Listed in one zone of weight 1, threshold 2: greeted, logged.
        srv = self.srv("dnsbl other.test = 1", "dnsbl_threshold = 2")
        c, code, text = self.greeting(srv)
        self.assertEqual(code, 220, text)
        c.close()
        self.assertTrue(srv.wait_log(r"dnsbl bl\.test listed \[127\.0\.0\.2\]"))
        srv2 = self.srv("dnsbl other.test = 1", "dnsbl_threshold = 2",
                        "dnsbl another.test = 1")
        self.assertEqual(self.greeting(srv2)[1], 220)

    def test_silent_zone_lets_client_in(self):
        # A server that never answers: the check gives up (5 s) and the
        # client is greeted.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as dead:
            dead.bind(("127.0.0.1", 0))
            srv = self.srv(dns="127.0.0.1:%d" % dead.getsockname()[1])
            t0 = time.time()
            c, code, text = self.greeting(srv, timeout=15.0)
            self.assertEqual(code, 220, text)
            self.assertLess(time.time() - t0, 10)
            c.close()
        self.assertTrue(srv.wait_log(r"dnsbl: no answer within"))

    def test_refusing_resolver_lets_client_in(self):
        # Nothing listens there: ICMP port unreachable, an error at once.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        srv = self.srv(dns="127.0.0.1:%d" % port)
        c, code, text = self.greeting(srv, timeout=15.0)
        self.assertEqual(code, 220, text)
        c.close()

    def test_reject_at_rcpt_lets_postmaster_through(self):
        srv = self.srv("dnsbl_reject_at = rcpt")
        c, code, text = self.greeting(srv)
        self.assertEqual(code, 220, text)
        self.assertEqual(c.cmd("EHLO client.test")[0], 250)
        self.assertEqual(c.cmd("MAIL FROM:<s@client.test>")[0], 250)
        code, text = c.cmd("RCPT TO:<alice@%s>" % DOMAIN)
        self.assertEqual(code, 554, text)
        self.assertIn("blocked using bl.test: " + REASON, text)
        code, text = c.cmd("RCPT TO:<postmaster@%s>" % DOMAIN)
        self.assertEqual(code, 250, text)
        code, text = c.cmd("RCPT TO:<Postmaster>")
        self.assertEqual(code, 250, text)
        self.assertEqual(c.cmd("DATA")[0], 354)
        c.send(b"Subject: delisting\r\n\r\nPlease delist me.\r\n.\r\n")
        self.assertEqual(c.reply()[0], 250)
        c.cmd("QUIT")
        c.close()
        self.assertTrue(srv.wait_mails("alice", 1, match=b"Please delist me."))
        self.assertTrue(srv.wait_log(r'decision=reject rule="dnsbl bl\.test"'))


if __name__ == "__main__":
    unittest.main()
