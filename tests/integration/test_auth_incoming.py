"""SPF, DKIM and DMARC of incoming mail in smtpd, DNS from a loopback
dnsmasq: a stranger forging From: a bank that publishes p=reject is
refused with dmarc_reject = yes and marked dmarc=fail without it; a
forged Authentication-Results field with our id is dropped at delivery,
another's kept; a message signed by dkimpy arrives with dkim=pass; mail
from local_networks is not checked. Only loopback."""
import os
import re
import smtplib
import unittest

from harness import PosternTestCase, DOMAIN
from outbound_peers import Dnsmasq, DNSMASQ
from test_auth_check import rsa_key, split_txt, dkim

OURS = "mx." + DOMAIN


def forged(extra=b""):
    return (extra +
            b"From: Pay Desk <pay@bank.example>\r\n"
            b"To: alice@mydomain.test\r\n"
            b"Subject: invoice\r\n"
            b"Date: Thu, 03 Dec 2026 12:00:00 +0000\r\n"
            b"Message-ID: <inv-1@bank.example>\r\n"
            b"\r\n"
            b"Please pay.\r\n")


def field(msg):
    """Our Authentication-Results value, unfolded."""
    m = re.search(rb"(?m)^Authentication-Results: " + re.escape(OURS.encode()) +
                  rb";([^\r\n]*(?:\r\n[ \t][^\r\n]*)*)", msg)
    return None if m is None else re.sub(rb"\r\n[ \t]+", b" ", m.group(1)).decode().strip()


@unittest.skipUnless(os.path.exists(DNSMASQ), "dnsmasq not installed (make deps)")
@unittest.skipUnless(dkim is not None, "python3-dkim not installed (make deps)")
class IncomingVerification(PosternTestCase):

    @classmethod
    def setUpClass(cls):
        cls.rsa_pem, rsa_rec = rsa_key()
        cls.dns = Dnsmasq([
            "--local=/bank.example/", "--local=/good.example/",
            "--local=/mydomain.test/", "--local=/client.test/",
            "--txt-record=bank.example,v=spf1 ip4:192.0.2.1 -all",
            "--txt-record=_dmarc.bank.example,v=DMARC1; p=reject",
            "--txt-record=good.example,v=spf1 ip4:192.0.2.9 -all",
            "--txt-record=_dmarc.good.example,v=DMARC1; p=reject",
            "--txt-record=sel._domainkey.good.example,%s" % split_txt(rsa_rec),
        ]).start()

    @classmethod
    def tearDownClass(cls):
        cls.dns.stop()

    def srv(self, *extra):
        return self.server(extra=["dns_servers = %s" % self.dns.server] + list(extra))

    def send(self, srv, msg, sender="pay@bank.example", source="127.0.0.2"):
        s = srv.smtp(source=source)
        try:
            s.sendmail(sender, ["alice@" + DOMAIN], msg)
            return 250, None
        except smtplib.SMTPDataError as e:
            return e.smtp_code, e.smtp_error
        finally:
            s.quit()

    def test_forged_bank_refused_with_dmarc_reject(self):
        srv = self.srv("dmarc_reject = yes")
        code, text = self.send(srv, forged())
        self.assertEqual(code, 550, text)
        self.assertIn(b"5.7.1", text)
        self.assertEqual(srv.incoming_ids(), [])
        self.assertEqual(srv.queue_ids(), [])
        self.assertEqual(srv.mails("alice"), {})

    def test_forged_bank_marked_without_dmarc_reject(self):
        srv = self.srv()
        self.assertEqual(self.send(srv, forged())[0], 250)
        got = srv.wait_mails("alice")
        self.assertEqual(len(got), 1)
        f = field(got[0])
        self.assertIsNotNone(f, got[0])
        self.assertIn("spf=fail smtp.mailfrom=pay@bank.example", f)
        self.assertIn("dkim=none", f)
        self.assertIn("dmarc=fail", f)
        self.assertIn("header.from=bank.example", f)
        # The field comes before the message's own header.
        self.assertLess(got[0].index(b"Authentication-Results: " + OURS.encode()),
                        got[0].index(b"From: Pay Desk"))

    def test_forged_field_with_our_id_is_dropped(self):
        srv = self.srv()
        fake = (b"Authentication-Results: " + OURS.encode() +
                b"; spf=pass smtp.mailfrom=pay@bank.example;\r\n"
                b"\tdmarc=pass header.from=bank.example\r\n"
                b"Authentication-Results: other.example; spf=pass smtp.mailfrom=x@y.example\r\n")
        self.assertEqual(self.send(srv, forged(fake))[0], 250)
        got = srv.wait_mails("alice")[0]
        self.assertEqual(got.count(b"Authentication-Results: " + OURS.encode()), 1, got)
        self.assertNotIn(b"dmarc=pass", got)
        self.assertIn(b"dmarc=fail", got)
        self.assertIn(b"Authentication-Results: other.example; spf=pass", got)

    def test_dkimpy_signature_passes(self):
        srv = self.srv("dmarc_reject = yes")
        msg = (b"From: News <news@good.example>\r\n"
               b"To: alice@mydomain.test\r\n"
               b"Subject: hello\r\n"
               b"Date: Thu, 03 Dec 2026 12:00:00 +0000\r\n"
               b"\r\n"
               b"Signed by dkimpy.\r\n")
        sig = dkim.sign(msg, b"sel", b"good.example", self.rsa_pem,
                        include_headers=[b"From", b"To", b"Subject", b"Date"])
        # SPF fails (wrong IP), DKIM passes aligned: DMARC passes, no 550.
        code, text = self.send(srv, sig + msg, sender="news@good.example")
        self.assertEqual(code, 250, text)
        f = field(srv.wait_mails("alice")[0])
        self.assertIn("dkim=pass header.d=good.example header.s=sel", f)
        self.assertIn("dmarc=pass", f)

    def test_local_networks_not_checked(self):
        srv = self.srv("dmarc_reject = yes")
        self.assertEqual(self.send(srv, forged(), source="127.0.0.1")[0], 250)
        got = srv.wait_mails("alice")[0]
        self.assertIsNone(field(got), got)

    def test_verify_incoming_off(self):
        srv = self.srv("dmarc_reject = yes", "verify_incoming = no")
        self.assertEqual(self.send(srv, forged())[0], 250)
        got = srv.wait_mails("alice")[0]
        self.assertIsNone(field(got), got)


if __name__ == "__main__":
    unittest.main()
