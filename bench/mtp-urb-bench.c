// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mtp-urb-bench: how fast `usbip serve-mtp` streams a file, and what it
 * costs the responder in CPU, with a host's URB patterns and no guest: this
 * client speaks USB/IP and MTP itself (with the project's codecs), as
 * vhci-hcd and libmtp would through it.
 *
 *   mtp-urb-bench [-r ROUNDS] [-v] [-p PATTERN] [-c RCPU,CCPU] [-u] USBIP DIR
 *
 * USBIP is the usbip program, DIR a folder holding exactly one file (the
 * runner, bench/mtp-throughput.sh, makes it). The responder is started here
 * as `USBIP -t PORT serve-mtp --dir DIR -a 127.0.0.1` on a port the kernel
 * gave us; then one import, SET_CONFIGURATION, OpenSession,
 * GetObjectHandles, and GetObject of the file ROUNDS times (default 4) for
 * each URB pattern. It prints MB/s and the responder's CPU time per MiB
 * (utime+stime from /proc/PID/stat, and the scheduler's exact runtime from
 * /proc/PID/schedstat), each also as a ratio to the reference pattern (512
 * KiB, one at a time) of the same run. -v checks every byte against the file
 * (slower: for correctness, not for the numbers). -p runs one pattern
 * alone (its name as printed, e.g. "512KiB x4"), for a profiler. -c pins
 * the responder to CPU RCPU and this client to CCPU (the same one, or two):
 * where the scheduler puts them otherwise changes the cost of every
 * wake-up, most of all in a VM, and with it the numbers. -u serves and
 * imports over a Unix socket instead (`serve-mtp --listen unix:DIR.sock`),
 * to set against TCP loopback.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <sched.h>
#include <arpa/inet.h>

#include "mtp/mtp_container.h"
#include "net/conn.h"
#include "net/dial.h"
#include "net/op_msg.h"
#include "net/tcp.h"
#include "wire/usbip_proto.h"

#define BUSID	     "1-1"
#define MAX_INFLIGHT 64
#define EP_OUT	     0x01
#define EP_IN	     0x81

struct pattern {
	const char *name;
	uint32_t urb;
	unsigned int inflight;
};

static const struct pattern patterns[] = {
	{ "512KiB x1", 512u << 10, 1 }, /* the reference */
	{ "16KiB x1", 16u << 10, 1 },	/* as libmtp issues them */
	{ "512KiB x4", 512u << 10, 4 }, { "64KiB x8", 64u << 10, 8 }, { "16MiB x2", 16u << 20, 2 },
};

struct client {
	int fd;
	uint32_t seq;
	uint32_t tid;
	uint8_t *sink; /* IN data lands here */
	int file_fd;   /* for -v */
	uint8_t *check;
};

static void die(const char *what)
{
	fprintf(stderr, "mtp-urb-bench: %s%s%s\n", what, errno ? ": " : "",
		errno ? strerror(errno) : "");
	exit(1);
}

static void send_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("sending to serve-mtp");
		p += n;
		len -= (size_t)n;
	}
}

static void recv_all(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = recv(fd, p, len, MSG_WAITALL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = 0;
			die("receiving from serve-mtp");
		}
		p += n;
		len -= (size_t)n;
	}
}

/* CMD_SUBMIT; OUT data follows the header. Returns the seqnum. */
static uint32_t submit(struct client *c, uint8_t ep, bool in, uint32_t len, const uint8_t *setup,
		       const void *out)
{
	struct usbip_urb_header h = {
		.base = { .command = USBIP_CMD_SUBMIT,
			  .seqnum = ++c->seq,
			  .devid = 0x10002,
			  .direction = in ? USBIP_DIR_IN : USBIP_DIR_OUT,
			  .ep = ep & 0x0f },
		.u.cmd_submit = { .transfer_flags = in ? USBIP_URB_DIR_IN : 0,
				  .transfer_buffer_length = len,
				  .number_of_packets = USBIP_NON_ISO },
	};
	uint8_t buf[USBIP_URB_HEADER_SIZE];

	if (setup)
		memcpy(h.u.cmd_submit.setup, setup, 8);
	usbip_proto_encode_urb_header(buf, &h);
	send_all(c->fd, buf, sizeof(buf));
	if (!in && len)
		send_all(c->fd, out, len);
	return c->seq;
}

/* The next reply; IN data (if any) goes to data. Returns actual_length. */
static uint32_t reply(struct client *c, struct usbip_urb_header *h, bool in, uint8_t *data,
		      size_t cap)
{
	uint8_t buf[USBIP_URB_HEADER_SIZE];
	struct usbip_error err;
	struct usbip_proto_urb_payload pl;

	recv_all(c->fd, buf, sizeof(buf));
	if (usbip_proto_decode_urb_header(buf, sizeof(buf), h, &err) ||
	    usbip_proto_urb_payload(h, in ? USBIP_DIR_IN : USBIP_DIR_OUT, &pl, &err)) {
		fprintf(stderr, "mtp-urb-bench: bad reply: %s\n", err.msg);
		exit(1);
	}
	if (h->base.command != USBIP_RET_SUBMIT)
		return 0;
	if (pl.data_len > cap) {
		fprintf(stderr, "mtp-urb-bench: %u bytes for a %zu-byte URB\n", pl.data_len, cap);
		exit(1);
	}
	if (pl.data_len)
		recv_all(c->fd, data, pl.data_len);
	if (h->u.ret_submit.status != 0) {
		fprintf(stderr, "mtp-urb-bench: URB %u failed: %d\n", h->base.seqnum,
			h->u.ret_submit.status);
		exit(1);
	}
	return (uint32_t)pl.data_len;
}

static void control_out(struct client *c, const uint8_t setup[8])
{
	struct usbip_urb_header h;

	submit(c, 0, false, 0, setup, NULL);
	reply(c, &h, false, NULL, 0);
}

/* An MTP command container on the bulk OUT pipe. */
static void command(struct client *c, uint16_t code, const uint32_t *params, unsigned int n)
{
	struct mtp_buf b = { 0 };
	struct usbip_urb_header h;
	unsigned int i;

	mtp_container_put_u32(&b, MTP_HEADER_SIZE + 4 * n);
	mtp_container_put_u16(&b, MTP_CONTAINER_COMMAND);
	mtp_container_put_u16(&b, code);
	mtp_container_put_u32(&b, ++c->tid);
	for (i = 0; i < n; i++)
		mtp_container_put_u32(&b, params[i]);
	if (b.failed)
		die("out of memory");
	submit(c, EP_OUT, false, (uint32_t)b.len, NULL, b.data);
	reply(c, &h, false, NULL, 0);
	mtp_container_buf_free(&b);
}

/* Reads one container (small: data or response) with one 64 KiB IN URB. */
static size_t small_container(struct client *c, struct mtp_header *mh)
{
	struct usbip_urb_header h;
	struct usbip_error err;
	uint32_t n;

	submit(c, EP_IN, true, 65536, NULL, NULL);
	n = reply(c, &h, true, c->sink, 65536);
	if (mtp_container_decode_header(c->sink, n, mh, &err)) {
		fprintf(stderr, "mtp-urb-bench: bad container: %s\n", err.msg);
		exit(1);
	}
	return n;
}

static void expect_ok(struct client *c, const char *what)
{
	struct mtp_header mh;

	small_container(c, &mh);
	if (mh.type != MTP_CONTAINER_RESPONSE || mh.code != PTP_RC_OK) {
		fprintf(stderr, "mtp-urb-bench: %s: response type %u code 0x%04x\n", what, mh.type,
			mh.code);
		exit(1);
	}
}

static void verify(struct client *c, uint64_t off, const uint8_t *data, size_t len)
{
	ssize_t n = pread(c->file_fd, c->check, len, (off_t)off);

	if (n != (ssize_t)len || memcmp(c->check, data, len) != 0) {
		fprintf(stderr,
			"mtp-urb-bench: data differs from the file near offset %" PRIu64 "\n", off);
		exit(1);
	}
}

/*
 * GetObject with IN URBs of p->urb bytes, p->inflight at a time, as a host
 * controller driver keeps them queued: a new one goes in as each completes,
 * never more than the data phase still needs. Returns the file's bytes.
 */
static uint64_t get_object(struct client *c, uint32_t handle, const struct pattern *p)
{
	uint64_t expect = UINT64_MAX, got = 0, asked = 0, file_bytes = 0;
	unsigned int inflight = 0;
	bool zlp = false, done = false;
	struct mtp_header mh;

	command(c, PTP_OC_GetObject, &handle, 1);
	for (;;) {
		struct usbip_urb_header h;
		uint32_t n;

		while (!done && inflight < p->inflight && asked < expect + (zlp ? 1 : 0)) {
			submit(c, EP_IN, true, p->urb, NULL, NULL);
			inflight++;
			asked += p->urb;
		}
		if (!inflight)
			break;
		n = reply(c, &h, true, c->sink, p->urb);
		inflight--;
		if (done)
			continue; /* (not reached: nothing is asked beyond the data) */
		if (got == 0) {
			struct usbip_error err;

			if (mtp_container_decode_header(c->sink, n, &mh, &err) ||
			    mh.type != MTP_CONTAINER_DATA) {
				fprintf(stderr, "mtp-urb-bench: GetObject: no data container\n");
				exit(1);
			}
			expect = mh.length;
			/* A data phase of whole packets ends with a zero-length packet. */
			zlp = expect % 512 == 0;
		}
		if (c->check && n > (got == 0 ? MTP_HEADER_SIZE : 0)) {
			size_t skip = got == 0 ? MTP_HEADER_SIZE : 0;

			verify(c, got + skip - MTP_HEADER_SIZE, c->sink + skip, n - skip);
		}
		got += n;
		if (got > expect) {
			fprintf(stderr, "mtp-urb-bench: more data than announced\n");
			exit(1);
		}
		if (got == expect && (!zlp || n < p->urb))
			done = true;
	}
	file_bytes = got - MTP_HEADER_SIZE;
	expect_ok(c, "GetObject");
	return file_bytes;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* utime+stime of pid in seconds; its exact on-CPU time from schedstat in *exact (or -1). */
static double cpu_of(pid_t pid, double *exact)
{
	char path[64], buf[1024], *p;
	unsigned long long ut = 0, st = 0, ns;
	FILE *f;

	*exact = -1;
	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)pid);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%llu", &ns) == 1)
			*exact = (double)ns / 1e9;
		fclose(f);
	}
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f || !fgets(buf, sizeof(buf), f))
		die("reading the responder's /proc/PID/stat");
	fclose(f);
	/* After "(comm)", fields 3...: utime and stime are the 14th and 15th. */
	p = strrchr(buf, ')');
	if (!p ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		die("parsing /proc/PID/stat");
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* A port the kernel hands out now (free for the moment it takes to start serve-mtp). */
static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) != 0)
		die("getting a port");
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static void pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0)
		die("pinning to a CPU");
}

/*
 * Starts serve-mtp (on CPU cpu, if not -1) on 127.0.0.1:port, or on listen
 * (unix:PATH) if not NULL, and returns once it says it is listening.
 */
static pid_t start_responder(const char *usbip, const char *dir, const char *port,
			     const char *listen, int cpu)
{
	int out[2];
	char line[512];
	FILE *f;
	pid_t pid;

	if (pipe(out) != 0)
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		/* Killed or crashed, this client takes the responder with it. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		pin(cpu);
		dup2(out[1], 1);
		close(out[0]);
		close(out[1]);
		if (listen)
			execl(usbip, usbip, "serve-mtp", "--dir", dir, "--listen", listen,
			      (char *)NULL);
		else
			execl(usbip, usbip, "-t", port, "serve-mtp", "--dir", dir, "-a",
			      "127.0.0.1", (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	f = fdopen(out[0], "r");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "serving", 7) == 0)
			return pid; /* the pipe stays open: the responder may print more */
	errno = 0;
	die("serve-mtp did not start (see its messages above)");
	return -1;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: mtp-urb-bench [-r ROUNDS] [-v] [-p PATTERN] [-c RCPU,CCPU] [-u] USBIP "
		"DIR\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const uint8_t set_config[8] = { 0x00, 0x09, 1, 0, 0, 0, 0, 0 };
	struct client c = { .file_fd = -1 };
	struct usbip_usb_device udev;
	struct usbip_conn *conn;
	struct mtp_header mh;
	struct mtp_reader r;
	uint32_t status, handle, params[3] = { 0xffffffff, 0, 0xffffffff }, session = 1;
	double ref_rate = 0, ref_cpu = 0, ref_exact = 0;
	char port[16], path[4096], listen[4200];
	bool over_unix = false;
	const char *only = NULL;
	int rounds = 4, opt, i, k, rcpu = -1, ccpu = -1;
	bool check = false;
	struct dirent *de;
	size_t n;
	pid_t pid;
	DIR *d;

	while ((opt = getopt(argc, argv, "r:vp:c:u")) != -1) {
		switch (opt) {
		case 'r':
			rounds = atoi(optarg);
			break;
		case 'v':
			check = true;
			break;
		case 'u':
			over_unix = true;
			break;
		case 'p':
			only = optarg;
			break;
		case 'c':
			if (sscanf(optarg, "%d,%d", &rcpu, &ccpu) != 2)
				usage();
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2 || rounds < 1)
		usage();
	signal(SIGPIPE, SIG_IGN);
	d = opendir(argv[optind + 1]);
	if (!d)
		die(argv[optind + 1]);
	path[0] = 0;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			snprintf(path, sizeof(path), "%s/%s", argv[optind + 1], de->d_name);
	closedir(d);
	if (check) {
		c.file_fd = open(path, O_RDONLY);
		c.check = malloc(16u << 20);
		if (c.file_fd < 0 || !c.check)
			die(path);
	}

	snprintf(port, sizeof(port), "%d", free_port());
	/* The socket's file beside the folder (the folder must hold the one file). */
	snprintf(listen, sizeof(listen), "unix:%s.sock", argv[optind + 1]);
	pid = start_responder(argv[optind], argv[optind + 1], port, over_unix ? listen : NULL,
			      rcpu);
	pin(ccpu);
	if (over_unix) {
		if (dial(listen, port, 5000, NULL, &conn) != USBIP_OK)
			conn = NULL;
	} else {
		conn = tcp_connect("127.0.0.1", port, 5000);
	}
	if (!conn || op_msg_query_import(conn, BUSID, &udev, &status) != 0)
		die("importing " BUSID);
	c.fd = conn->fd;
	c.sink = malloc(16u << 20);
	if (!c.sink)
		die("out of memory");
	control_out(&c, set_config);
	command(&c, PTP_OC_OpenSession, &session, 1);
	expect_ok(&c, "OpenSession");
	command(&c, PTP_OC_GetObjectHandles, params, 3);
	n = small_container(&c, &mh);
	mtp_container_reader_init(&r, c.sink + MTP_HEADER_SIZE, n - MTP_HEADER_SIZE);
	if (mh.type != MTP_CONTAINER_DATA || mtp_container_get_u32(&r, "count") < 1)
		die("GetObjectHandles: no objects");
	handle = mtp_container_get_u32(&r, "handle");
	expect_ok(&c, "GetObjectHandles");

	printf("responder pid %d over %s; %d rounds per pattern%s", (int)pid,
	       over_unix ? "a Unix socket" : "TCP loopback", rounds,
	       check ? "; every byte checked" : "");
	if (rcpu >= 0)
		printf("; responder on CPU %d, client on CPU %d", rcpu, ccpu);
	printf("\n");
	printf("%-11s %9s %12s %14s   %s\n", "URBs", "MB/s", "CPU ms/MiB", "(schedstat)",
	       "ratios to 512KiB x1: MB/s, CPU/MiB (stat, schedstat)");
	for (i = 0; i < (int)(sizeof(patterns) / sizeof(patterns[0])); i++) {
		const struct pattern *p = &patterns[i];
		double t0, t1, cpu0, cpu1, ex0, ex1, rate, cpu, exact, mib;
		uint64_t bytes = 0;

		if (only && strcmp(only, p->name) != 0)
			continue;
		get_object(&c, handle, p); /* warm up: page cache, allocator */
		cpu0 = cpu_of(pid, &ex0);
		t0 = now_s();
		for (k = 0; k < rounds; k++)
			bytes += get_object(&c, handle, p);
		t1 = now_s();
		cpu1 = cpu_of(pid, &ex1);
		mib = (double)bytes / (1 << 20);
		rate = (double)bytes / (t1 - t0) / 1e6;
		cpu = (cpu1 - cpu0) * 1e3 / mib;
		exact = ex0 >= 0 ? (ex1 - ex0) * 1e3 / mib : -1;
		if (ref_rate == 0) {
			ref_rate = rate;
			ref_cpu = cpu;
			ref_exact = exact;
		}
		printf("%-11s %9.0f %12.3f %14.3f   %.2f, %.2f, %.2f\n", p->name, rate, cpu, exact,
		       rate / ref_rate, ref_cpu > 0 ? cpu / ref_cpu : 0,
		       ref_exact > 0 ? exact / ref_exact : 0);
		fflush(stdout);
	}
	conn_close(conn);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	free(c.sink);
	free(c.check);
	return 0;
}
