"""SPF, DKIM and DMARC of incoming mail in smtpd, DNS from a loopback
dnsmasq: a stranger forging From: a bank that publishes p=reject is
refused with dmarc_reject = yes and marked dmarc=fail without it; a
forged Authentication-Results field with our id is dropped at delivery,
another's kept; a message signed by dkimpy arrives with dkim=pass; mail
from local_networks is not checked. A temporary DNS failure (SERVFAIL
from a tiny DNS server in the test) never gives 550: 451 where the
rejection would follow, acceptance otherwise. Only loopback."""
import os
import re
import smtplib
import socket
import struct
import threading
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


class ServfailDns:
    """A tiny DNS server on 127.0.0.1 (UDP): TXT records from `records`
    ({name: [strings]}), SERVFAIL for the names in `servfail`, NXDOMAIN
    for anything else. dnsmasq cannot answer SERVFAIL for one name and a
    record for its neighbour, which the temporary-failure cases need."""

    def __init__(self, records, servfail):
        self.records = {k.lower(): v for k, v in records.items()}
        self.servfail = {n.lower() for n in servfail}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.asked = []
        self.running = True
        self.thread = threading.Thread(target=self.serve, daemon=True)

    @property
    def server(self):
        return "127.0.0.1:%d" % self.sock.getsockname()[1]

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.running = False
        self.thread.join(2)
        self.sock.close()

    def answer(self, q):
        if len(q) < 12:
            return None
        qid, flags, qd = struct.unpack("!HHH", q[:6])
        if flags & 0x8000 or qd != 1:
            return None
        pos, labels = 12, []
        while pos < len(q) and q[pos] != 0:
            labels.append(q[pos + 1:pos + 1 + q[pos]].decode("ascii", "replace"))
            pos += 1 + q[pos]
        if pos + 5 > len(q):
            return None
        qtype = struct.unpack("!H", q[pos + 1:pos + 3])[0]
        question = q[12:pos + 5]
        name = ".".join(labels).lower()
        self.asked.append((name, qtype))
        answers = []
        if name in self.servfail:
            rcode = 2
        elif name in self.records:
            rcode = 0
            if qtype == 16:
                for txt in self.records[name]:
                    b = txt.encode()
                    rdata = b"".join(bytes([len(b[i:i + 255])]) + b[i:i + 255]
                                     for i in range(0, len(b), 255))
                    answers.append(b"\xc0\x0c" + struct.pack(
                        "!HHIH", 16, 1, 60, len(rdata)) + rdata)
        else:
            rcode = 3
        head = struct.pack("!HHHHHH", qid, 0x8400 | (flags & 0x0100) | rcode,
                           1, len(answers), 0, 0)
        return head + question + b"".join(answers)

    def serve(self):
        while self.running:
            try:
                q, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            r = self.answer(q)
            if r is not None:
                self.sock.sendto(r, peer)


@unittest.skipUnless(dkim is not None, "python3-dkim not installed (make deps)")
class TemporaryDnsFailure(PosternTestCase):
    """dmarc_reject = yes and SERVFAIL on the SPF record or the DKIM key:
    451 4.7.1 where the DMARC verdict would refuse (fail, p=reject), the
    message accepted and marked otherwise; never 550."""

    @classmethod
    def setUpClass(cls):
        cls.rsa_pem, rsa_rec = rsa_key()
        cls.dns = ServfailDns({
            # SPF lookup fails; DMARC p=reject
            "_dmarc.spftemp.example": ["v=DMARC1; p=reject"],
            "sel._domainkey.spftemp.example": [rsa_rec],
            # SPF lookup fails; DMARC p=none
            "_dmarc.spfnone.example": ["v=DMARC1; p=none"],
            # SPF fails for real; the DKIM key lookup fails; p=reject
            "dkimtemp.example": ["v=spf1 ip4:192.0.2.1 -all"],
            "_dmarc.dkimtemp.example": ["v=DMARC1; p=reject"],
            # SPF fails for real; the DMARC record lookup fails
            "dmarctemp.example": ["v=spf1 ip4:192.0.2.1 -all"],
        }, servfail=["spftemp.example", "spfnone.example",
                     "sel._domainkey.dkimtemp.example",
                     "_dmarc.dmarctemp.example"]).start()

    @classmethod
    def tearDownClass(cls):
        cls.dns.stop()

    def setUp(self):
        super().setUp()
        self.srv = self.server(extra=["dns_servers = %s" % self.dns.server,
                                      "dmarc_reject = yes"])

    def msg(self, domain, sign=False):
        m = (b"From: Desk <desk@%s>\r\n"
             b"To: alice@mydomain.test\r\n"
             b"Subject: statement\r\n"
             b"Date: Thu, 03 Dec 2026 12:00:00 +0000\r\n"
             b"Message-ID: <st-1@%s>\r\n"
             b"\r\n"
             b"Your statement.\r\n") % (domain.encode(), domain.encode())
        if sign:
            m = dkim.sign(m, b"sel", domain.encode(), self.rsa_pem,
                          include_headers=[b"From", b"To", b"Subject", b"Date"]) + m
        return m

    def send(self, domain, sign=False):
        s = self.srv.smtp(source="127.0.0.2")
        try:
            s.sendmail("desk@" + domain, ["alice@" + DOMAIN], self.msg(domain, sign))
            return 250, None
        except smtplib.SMTPDataError as e:
            return e.smtp_code, e.smtp_error
        finally:
            s.quit()

    def assert_try_again(self, code, text):
        self.assertEqual(code, 451, text)
        self.assertTrue(text.startswith(b"4.7.1"), text)
        self.assertEqual(self.srv.incoming_ids(), [])
        self.assertEqual(self.srv.queue_ids(), [])
        self.assertEqual(self.srv.mails("alice"), {})

    def accepted_field(self, code, text):
        self.assertEqual(code, 250, text)
        f = field(self.srv.wait_mails("alice")[0])
        self.assertIsNotNone(f)
        return f

    def test_spf_temperror_where_reject_would_follow_is_451(self):
        self.assert_try_again(*self.send("spftemp.example"))
        self.assertIn(("spftemp.example", 16), self.dns.asked)

    def test_dkim_key_temperror_where_reject_would_follow_is_451(self):
        self.assert_try_again(*self.send("dkimtemp.example", sign=True))
        self.assertIn(("sel._domainkey.dkimtemp.example", 16), self.dns.asked)

    def test_spf_temperror_with_aligned_dkim_pass_is_accepted(self):
        f = self.accepted_field(*self.send("spftemp.example", sign=True))
        self.assertIn("spf=temperror smtp.mailfrom=desk@spftemp.example", f)
        self.assertIn("dkim=pass header.d=spftemp.example", f)
        self.assertIn("dmarc=pass", f)

    def test_spf_temperror_without_reject_policy_is_accepted(self):
        f = self.accepted_field(*self.send("spfnone.example"))
        self.assertIn("spf=temperror", f)
        self.assertIn("dmarc=fail", f)

    def test_dmarc_record_temperror_is_accepted(self):
        f = self.accepted_field(*self.send("dmarctemp.example"))
        self.assertIn("spf=fail", f)
        self.assertIn("dmarc=temperror", f)


if __name__ == "__main__":
    unittest.main()
