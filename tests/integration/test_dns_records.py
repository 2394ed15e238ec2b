"""Record lookups (dns.c's dns_query, as SPF, DKIM and DMARC will use it)
through `postern dns-query` against a loopback dnsmasq: TXT records with
several character-strings joined (a long one over TCP), several TXT
records, A, AAAA, MX names without address lookups, PTR; NXDOMAIN and
NODATA kept apart; a server that refuses, a closed port and a server that
never answers are temp within the resolver's timeout; invalid names are
refused at once. Only loopback."""
import os
import socket
import tempfile
import shutil
import time
import unittest

from harness import PosternTestCase, free_port, run_postern
from outbound_peers import Dnsmasq, DNSMASQ

EX_OK, EX_REFUSED, EX_USAGE, EX_TEMPFAIL = 0, 1, 64, 75

SPF = "v=spf1 ip4:192.0.2.0/24 mx -all"
# Three character-strings of 200: one record of 600 bytes, more than a
# 512-byte UDP answer holds, so the answer comes over TCP.
KEY = "v=DKIM1; k=rsa; p=" + "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA" * 13
PARTS = [KEY[i:i + 200] for i in range(0, 600, 200)]
KEY = "".join(PARTS)


def config(dir, servers, name="postern.conf"):
    path = os.path.join(dir, name)
    with open(path, "w") as f:
        f.write("hostname = mx.dns.test\n"
                "local_domains = dns.test\n"
                "users = %s/users\n"
                "spool = %s/spool\n"
                "listen_smtp = 127.0.0.1:%d\n"
                "postmaster = alice\n"
                "dns_servers = %s\n" % (dir, dir, free_port("127.0.0.1"), servers))
    return path


@unittest.skipUnless(os.path.exists(DNSMASQ), "dnsmasq not installed (make deps)")
class DnsRecords(PosternTestCase):

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="postern-dns-")
        cls.dns = Dnsmasq([
            "--local=/ex.test/", "--local=/0.0.127.in-addr.arpa/",
            "--local-ttl=120",
            "--txt-record=ex.test,%s" % SPF,
            "--txt-record=ex.test,first part ,second part",
            "--txt-record=sel._domainkey.ex.test,%s" % ",".join(PARTS),
            "--host-record=h.ex.test,127.0.0.7,2001:db8::7",
            "--host-record=v4only.ex.test,127.0.0.8",
            "--mx-host=ex.test,mx1.ex.test,10",
            "--mx-host=ex.test,mx2.ex.test,20",
            "--ptr-record=7.0.0.127.in-addr.arpa,h.ex.test",
            "--address=/a.ex.test/127.0.0.9"]).start()
        cls.conf = config(cls.dir, cls.dns.server)

    @classmethod
    def tearDownClass(cls):
        cls.dns.stop()
        shutil.rmtree(cls.dir, True)

    def query(self, qtype, name, conf=None):
        r = run_postern(["dns-query", "-c", conf or self.conf, qtype, name])
        lines = r.stdout.splitlines()
        self.assertTrue(lines and lines[-1].startswith("status="),
                        (r.returncode, r.stdout, r.stderr))
        return r.returncode, lines[-1].split()[0][7:], lines[:-1]

    def test_txt_records_joined(self):
        rc, st, recs = self.query("TXT", "ex.test")
        self.assertEqual((rc, st), (EX_OK, "ok"))
        self.assertEqual(sorted(recs), sorted([SPF, "first part second part"]))

    def test_ttl_reported(self):
        r = run_postern(["dns-query", "-c", self.conf, "A", "h.ex.test"])
        self.assertEqual(r.stdout.splitlines()[-1], "status=ok ttl=120")

    def test_long_txt_over_tcp(self):
        rc, st, recs = self.query("TXT", "sel._domainkey.ex.test")
        self.assertEqual((rc, st), (EX_OK, "ok"))
        self.assertEqual(recs, [KEY])
        self.assertGreater(len(KEY), 512)

    def test_a_and_aaaa(self):
        self.assertEqual(self.query("A", "h.ex.test"), (EX_OK, "ok", ["127.0.0.7"]))
        self.assertEqual(self.query("AAAA", "h.ex.test"), (EX_OK, "ok", ["2001:db8::7"]))
        self.assertEqual(self.query("A", "a.ex.test"), (EX_OK, "ok", ["127.0.0.9"]))
        # a final dot and another case are the same name
        self.assertEqual(self.query("a", "H.EX.TEST."), (EX_OK, "ok", ["127.0.0.7"]))

    def test_mx_names_only(self):
        # mx1 and mx2 have no address: the names come anyway
        rc, st, recs = self.query("MX", "ex.test")
        self.assertEqual((rc, st), (EX_OK, "ok"))
        self.assertEqual(sorted(recs), ["10 mx1.ex.test", "20 mx2.ex.test"])

    def test_ptr(self):
        self.assertEqual(self.query("PTR", "127.0.0.7"), (EX_OK, "ok", ["h.ex.test"]))
        self.assertEqual(self.query("PTR", "7.0.0.127.in-addr.arpa"),
                         (EX_OK, "ok", ["h.ex.test"]))

    def test_nxdomain_vs_nodata(self):
        self.assertEqual(self.query("TXT", "nope.ex.test"), (EX_REFUSED, "nxdomain", []))
        self.assertEqual(self.query("TXT", "_dmarc.ex.test"), (EX_REFUSED, "nxdomain", []))
        # the name exists, with no record of the type
        self.assertEqual(self.query("TXT", "h.ex.test"), (EX_REFUSED, "nodata", []))
        self.assertEqual(self.query("AAAA", "v4only.ex.test"), (EX_REFUSED, "nodata", []))
        self.assertEqual(self.query("MX", "h.ex.test"), (EX_REFUSED, "nodata", []))
        self.assertEqual(self.query("A", "ex.test"), (EX_REFUSED, "nodata", []))
        self.assertEqual(self.query("PTR", "127.0.0.99"), (EX_REFUSED, "nxdomain", []))

    def test_refused_is_temp(self):
        # outside ex.test dnsmasq has no upstream: REFUSED
        self.assertEqual(self.query("TXT", "elsewhere.example"), (EX_TEMPFAIL, "temp", []))

    def test_invalid_names_perm_at_once(self):
        for name in ("a..ex.test", ".ex.test", "x" * 64 + ".ex.test",
                     ".".join(["abcdefghi"] * 26), "a b.ex.test"):
            t = time.time()
            self.assertEqual(self.query("TXT", name), (EX_REFUSED, "perm", []), name)
            self.assertLess(time.time() - t, 2.0)

    def test_usage(self):
        self.assertEqual(run_postern(["dns-query", "-c", self.conf, "SRV", "ex.test"]).returncode,
                         EX_USAGE)
        self.assertEqual(run_postern(["dns-query", "-c", self.conf, "TXT"]).returncode, EX_USAGE)
        r = run_postern(["dns-query", "--help"])
        self.assertEqual(r.returncode, EX_OK)
        self.assertIn("dns-query", r.stdout)

    def test_closed_port_is_temp(self):
        port = free_port("127.0.0.1")
        conf = config(self.dir, "127.0.0.1:%d" % port, "closed.conf")
        t = time.time()
        self.assertEqual(self.query("TXT", "ex.test", conf), (EX_TEMPFAIL, "temp", []))
        self.assertLess(time.time() - t, 15.0)

    def test_silent_server_is_temp(self):
        # A UDP socket that reads and never answers: the timeout decides
        # (3 s per try, 2 tries; c-ares doubles the second). Its TCP port
        # is closed.
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        self.addCleanup(s.close)
        conf = config(self.dir, "127.0.0.1:%d" % s.getsockname()[1], "silent.conf")
        t = time.time()
        self.assertEqual(self.query("TXT", "ex.test", conf), (EX_TEMPFAIL, "temp", []))
        self.assertLess(time.time() - t, 20.0)


if __name__ == "__main__":
    unittest.main()
