#!/bin/sh
# check-pure - the pure library's modules do no I/O, as the linker sees it.
# Usage: sh tools/check-pure.sh build/MODULE.o ...   (make lint passes PURE)
#
# The link rules in the Makefile already refuse a pure module that calls
# libevent, libssl, c-ares or an impure module: those are not linked. What
# they cannot refuse is I/O through libc (and libcrypto's BIO/RAND), which
# every program links. So this reads each object's undefined symbols
# (nm -u: what the compiled code calls, not what the source seems to say)
# and fails on any symbol below. A pure module gets what these would give
# it (bytes read, the time, random bytes, a descriptor's result) from its
# caller, which is what makes it testable and fuzzable from memory.
#
# Allowed, and why: snprintf/vsnprintf/asprintf (format into memory);
# inet_pton/inet_ntop (text <-> address, no lookup); gmtime_r/strftime
# (calendar arithmetic on a time the caller passed); EVP_*, HMAC,
# PKCS5_PBKDF2_HMAC, CRYPTO_memcmp, OPENSSL_cleanse (hashing is
# computation); malloc and friends; fatal() (the exit on a bug or when
# memory runs out, given by log.c in postern).
set -u

# One line per banned symbol or shell pattern: NAME WHY.
banned='
open		file I/O
openat		file I/O
creat		file I/O
close		descriptor I/O
read		descriptor I/O
readv		descriptor I/O
pread		descriptor I/O
write		descriptor I/O
writev		descriptor I/O
pwrite		descriptor I/O
lseek		descriptor I/O
fsync		file I/O
fdatasync	file I/O
ftruncate	file I/O
truncate	file I/O
rename		file system
renameat	file system
renameat2	file system
link		file system
linkat		file system
unlink		file system
unlinkat	file system
mkdir		file system
mkdirat		file system
rmdir		file system
stat		file system
fstat		file system
fstatat		file system
lstat		file system
statx		file system
access		file system
faccessat	file system
chmod		file system
fchmod		file system
chown		file system
fchown		file system
flock		file system
fcntl		descriptor I/O
ioctl		descriptor I/O
dup		descriptor I/O
dup2		descriptor I/O
dup3		descriptor I/O
pipe		descriptor I/O
pipe2		descriptor I/O
mmap		mapping a file
opendir		directory I/O
fdopendir	directory I/O
readdir		directory I/O
rewinddir	directory I/O
closedir	directory I/O
dirfd		directory I/O
inotify_*	file system events
realpath	file system
getcwd		file system
chdir		file system
fchdir		file system
umask		file system
socket		network
socketpair	network
bind		network
listen		network
accept		network
accept4		network
connect		network
shutdown	network
send		network
sendto		network
sendmsg		network
recv		network
recvfrom	network
recvmsg		network
setsockopt	network
getsockopt	network
getsockname	network
getpeername	network
getaddrinfo	name lookup
getnameinfo	name lookup
gethostbyname	name lookup
gethostname	system state
res_*		name lookup
poll		waiting on descriptors
ppoll		waiting on descriptors
select		waiting on descriptors
pselect		waiting on descriptors
epoll_*		waiting on descriptors
fopen		stdio
fdopen		stdio
freopen		stdio
fclose		stdio
fflush		stdio
fread		stdio
fwrite		stdio
fgets		stdio
fgetc		stdio
getc		stdio
getchar		stdio
getline		stdio
getdelim	stdio
fputs		stdio
fputc		stdio
putc		stdio
putchar		stdio
puts		stdio
printf		stdio
vprintf		stdio
fprintf		stdio
vfprintf	stdio
dprintf		stdio
vdprintf	stdio
perror		stdio
stdin		stdio
stdout		stdio
stderr		stdio
syslog		logging
vsyslog		logging
openlog		logging
closelog	logging
log_info	logging (log.c)
log_warn	logging (log.c)
log_init	logging (log.c)
time		clock: the caller passes now
gettimeofday	clock: the caller passes now
clock_gettime	clock: the caller passes now
localtime	time zone file
localtime_r	time zone file
mktime		time zone file
tzset		time zone file
sleep		waiting
usleep		waiting
nanosleep	waiting
rand		randomness: the caller passes it
random		randomness: the caller passes it
srandom		randomness: the caller passes it
getrandom	randomness: the caller passes it
getentropy	randomness: the caller passes it
arc4random	randomness: the caller passes it
RAND_*		randomness: the caller passes it
BIO_*		OpenSSL I/O
SSL_*		TLS (libssl)
event_*		libevent
evbuffer_*	libevent
bufferevent_*	libevent
evconnlistener_*	libevent
evutil_*	libevent
ares_*		c-ares
fork		processes
vfork		processes
execve		processes
execv		processes
execvp		processes
system		processes
popen		processes
waitpid		processes
kill		processes
raise		signals
signal		signals
sigaction	signals
sigprocmask	signals
exit		exits the process (only fatal() may)
_exit		exits the process (only fatal() may)
syscall		any system call
prctl		process state
setrlimit	process state
getrlimit	process state
getpid		process state
getppid		process state
getuid		process state
geteuid		process state
getgid		process state
setuid		process state
setresuid	process state
setresgid	process state
setgroups	process state
getenv		environment: the caller passes config
secure_getenv	environment: the caller passes config
getpwnam	user database
getpwuid	user database
getgrnam	user database
'

if [ $# -eq 0 ]; then
	echo "usage: check-pure.sh OBJECT..." >&2
	exit 2
fi
for obj in "$@"; do
	if [ ! -f "$obj" ]; then
		echo "check-pure: $obj: no such object (make first)" >&2
		exit 2
	fi
done

# nm -A -u: "OBJECT: U SYMBOL" per call. Fortified and large-file names
# are the same calls: __read_chk -> read, __open_2 -> open, pread64 ->
# pread, __fprintf_chk -> fprintf. A NAME with '*' is a prefix.
nm -A -u "$@" | awk -v banned="$banned" '
BEGIN {
	n = split(banned, lines, "\n")
	for (i = 1; i <= n; i++) {
		if (split(lines[i], f, /[ \t]+/) < 2)
			continue
		why = lines[i]
		sub(/^[^ \t]+[ \t]+/, "", why)
		if (f[1] ~ /\*$/)
			prefix[substr(f[1], 1, length(f[1]) - 1)] = why
		else
			exact[f[1]] = why
	}
}
{
	obj = $1
	sub(/:$/, "", obj)
	sym = $NF
	base = sym
	sub(/@.*/, "", base)
	sub(/^__/, "", base)
	sub(/_chk$/, "", base)
	sub(/_2$/, "", base)
	sub(/64$/, "", base)
	why = ""
	if (base in exact)
		why = exact[base]
	else
		for (p in prefix)
			if (substr(base, 1, length(p)) == p)
				why = prefix[p]
	if (why != "") {
		printf "check-pure: %s calls %s (%s)\n", obj, sym, why
		bad = 1
	}
}
END {
	if (bad) {
		print "check-pure: a pure module does I/O: have the caller pass the result in, or take the module out of PURE (Makefile)"
		exit 1
	}
}' || exit 1
echo "check-pure: ok ($# pure objects)"
