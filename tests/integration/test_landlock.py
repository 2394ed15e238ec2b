"""Landlock: where the kernel has it, smtpd, pop3d and auth restrict
themselves (PR_SET_NO_NEW_PRIVS + landlock_restrict_self) after dropping
privileges; the queue process does not (yet). Seen from /proc."""
import ctypes
import os
import re
import unittest

from harness import Server, free_port

SYS_landlock_create_ruleset = 444     # x86_64 and aarch64 alike
LANDLOCK_CREATE_RULESET_VERSION = 1


def landlock_abi():
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.syscall(SYS_landlock_create_ruleset, None, 0,
                        LANDLOCK_CREATE_RULESET_VERSION)


def no_new_privs(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"(?m)^NoNewPrivs:\s+(\d)", f.read()).group(1))


@unittest.skipUnless(landlock_abi() >= 1, "this kernel has no landlock")
@unittest.skipIf("ASAN_OPTIONS" in os.environ,
                 "sanitizer builds do not landlock (LeakSanitizer needs /proc)")
class Landlock(unittest.TestCase):
    def test_network_facing_processes_are_landlocked(self):
        srv = Server(extra=["listen_pop3 = 127.0.0.1:%d" % free_port()])
        try:
            srv.start()
            m = srv.wait_log(r"started smtpd\[(\d+)\] auth\[(\d+)\] "
                             r"queue\[(\d+)\] pop3d\[(\d+)\]")
            self.assertTrue(m)
            pids = dict(zip(("smtpd", "auth", "queue", "pop3d"),
                            map(int, m.groups())))
            self.assertTrue(srv.wait_log(r"postern/pop3d\[\d+\]: ready"))
            for name in ("smtpd", "pop3d", "auth"):
                self.assertEqual(no_new_privs(pids[name]), 1, name)
            self.assertEqual(no_new_privs(pids["queue"]), 1)  # issue 9: queue too
            self.assertNotIn("landlock not available", srv.log())
            # Confined, and still working: a delivery and a POP3 login.
            s = srv.smtp()
            s.sendmail("a@example.org", ["alice@mydomain.test"], b"Subject: ll\r\n\r\nx\r\n")
            s.quit()
            self.assertTrue(srv.wait_mails("alice", 1))
        finally:
            srv.stop()
            srv.remove()


if __name__ == "__main__":
    unittest.main()
