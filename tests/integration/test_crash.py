"""Crash test: concurrent clients, SIGKILL at random moments, many rounds.

Every round starts the server, lets 10 client threads send uniquely tagged
messages to alice in a loop, and after a random 0.2-1.0 s kills it with
SIGKILL: the whole process group, or (every third round) the master alone,
whose children must then exit by themselves within 1 s.  Every tag that got
a 250 is recorded.  At the end the server is started once more; when the
queue is empty every acknowledged tag must be in alice's Maildir, at least
once.  Duplicates are possible by design (queue.h, invariant 3): a kill
between the Maildir rename into new/ and the fsync'ed status byte in the
queue file repeats that one delivery after the restart.  They are counted
and printed, not failed.

POSTERN_CRASH_ROUNDS (default 30) and POSTERN_CRASH_SEED change the run.
"""
import os
import random
import re
import smtplib
import socket
import sys
import threading
import time

from harness import PosternTestCase

ROUNDS = int(os.environ.get("POSTERN_CRASH_ROUNDS", "30"))
THREADS = 10
TAG_RX = re.compile(rb"crash-r(\d+)-t(\d+)-n(\d+)")


class Sender(threading.Thread):
    def __init__(self, srv, rnd, idx, stop, acked, lock, reuse):
        super().__init__(daemon=True)
        self.srv, self.rnd, self.idx = srv, rnd, idx
        self.stop, self.acked, self.lock = stop, acked, lock
        self.reuse = reuse
        self.n = 0
        self.errors = 0

    def run(self):
        while not self.stop.is_set():
            c = None
            try:
                c = smtplib.SMTP(self.srv.host, self.srv.port, local_hostname="crash.test",
                                 source_address=("127.0.0.1", 0), timeout=3)
                while not self.stop.is_set():
                    self.n += 1
                    tag = "crash-r%02d-t%02d-n%05d" % (self.rnd, self.idx, self.n)
                    body = ("Subject: %s\r\nFrom: t%d@example.org\r\n\r\n" % (tag, self.idx)
                            + "line of padding for %s\r\n" % tag * (1 + self.n % 7)
                            + "end %s\r\n" % tag).encode()
                    c.sendmail("t%d@example.org" % self.idx, ["alice@mydomain.test"], body)
                    with self.lock:
                        self.acked.add(tag)
                    if not self.reuse:
                        break
            except (smtplib.SMTPException, OSError, EOFError):
                self.errors += 1
                time.sleep(0.01)
            finally:
                if c is not None:
                    try:
                        c.close()
                    except Exception:
                        pass


class Crash(PosternTestCase):

    def test_crash_rounds(self):
        seed = int(os.environ.get("POSTERN_CRASH_SEED", str(int(time.time()))))
        rng = random.Random(seed)
        srv = self.server(start=False)
        acked = set()
        lock = threading.Lock()
        survivors = []          # rounds where children outlived a SIGKILLed master
        master_only = 0
        t_start = time.time()
        for rnd in range(ROUNDS):
            srv.start()
            stop = threading.Event()
            threads = [Sender(srv, rnd, i, stop, acked, lock, reuse=(i % 2 == 0))
                       for i in range(THREADS)]
            for t in threads:
                t.start()
            time.sleep(rng.uniform(0.2, 1.0))
            if rnd % 3 == 1:
                master_only += 1
                srv.kill_master()
                gone, left = srv.wait_no_processes(1.0)
                if not gone:
                    survivors.append((rnd, left))
                    srv.kill_group()
            else:
                srv.kill_group()
                gone, left = srv.wait_no_processes(1.0)
                self.assertTrue(gone, "round %d: processes left after killpg: %r" % (rnd, left))
            stop.set()
            for t in threads:
                t.join(10)
                self.assertFalse(t.is_alive(), "client thread stuck")
        t_rounds = time.time() - t_start

        # final start: everything acknowledged must come out
        srv.start()
        left = srv.wait_queue_empty(60)
        self.assertEqual(left, [], "queue not empty 60 s after the final start")
        time.sleep(0.3)
        self.assertEqual(srv.incoming_ids(), [], "incoming/ not cleaned at start-up")

        delivered = {}
        broken = []
        for name, data in srv.mails("alice").items():
            m = TAG_RX.search(data)
            if not m:
                broken.append((name, data[:200]))
                continue
            tag = m.group(0)
            if not (data.startswith(b"Return-Path: <") and data.endswith(b"end " + tag + b"\r\n")):
                broken.append((name, data[-200:]))
            delivered[tag.decode()] = delivered.get(tag.decode(), 0) + 1
        missing = sorted(acked - set(delivered))
        dups = sum(n - 1 for n in delivered.values())
        dup_msgs = sum(1 for n in delivered.values() if n > 1)
        unacked = len(set(delivered) - acked)
        summary = ("crash: seed=%d rounds=%d (master-only kills=%d) acknowledged=%d "
                   "delivered=%d (distinct %d) duplicates=%d (in %d messages) "
                   "delivered-without-250=%d missing=%d time=%.1fs+%.1fs"
                   % (seed, ROUNDS, master_only, len(acked), sum(delivered.values()),
                      len(delivered), dups, dup_msgs, unacked, len(missing), t_rounds,
                      time.time() - t_start - t_rounds))
        print("\n  " + summary)
        sys.stdout.flush()
        self.assertGreater(len(acked), ROUNDS, "too few messages acknowledged to mean anything")
        self.assertEqual(broken, [], "truncated or malformed Maildir files")
        self.assertEqual(missing, [], "acknowledged but never delivered (%d): %r"
                         % (len(missing), missing[:20]))
        self.assertEqual(survivors, [], "children outlived a SIGKILLed master by > 1 s "
                         "in %d of %d rounds" % (len(survivors), master_only))
