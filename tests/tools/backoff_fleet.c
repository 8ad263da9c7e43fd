// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A fleet of N agents that lost the same usbipa at the same moment,
 * against a fake usbipa on 127.0.0.1: each agent is a process that retries
 * a TCP connect with the agents' own pauses (agent/backoff.h, the first
 * after a clean close, then full jitter) until it gets through. The fake
 * peer refuses (a bound socket that does not listen) for OUTAGE_MS, then
 * listens. Prints the attempts the peer saw per 500 ms during the outage
 * (the storm) and when each agent got through after the peer came back
 * (the spread), as "key value" lines.
 *
 * usage: backoff_fleet AGENTS OUTAGE_MS [lockstep]
 * lockstep: every pause is its window's end, as a backoff without jitter.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/backoff.h"

#define MAX_AGENTS  200
#define MAX_BUCKETS 600
#define THROUGH	    (1LL << 40) /* in a report: this attempt got through */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void sleep_ms(long long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) != 0)
		;
}

/* One agent: reports each attempt's time (ms since start) on report, until one gets through. */
static void agent(const struct sockaddr_in *peer, long long start, int report, int lockstep)
{
	struct backoff b = { 0 };

	sleep_ms(backoff_after_close_ms(lockstep ? 0 : backoff_random()));
	for (;;) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		int ok = fd >= 0 && connect(fd, (const struct sockaddr *)peer, sizeof(*peer)) == 0;
		long long t = (now_ms() - start) | (ok ? THROUGH : 0);

		if (write(report, &t, sizeof(t)) != sizeof(t))
			_exit(1);
		if (fd >= 0)
			close(fd);
		if (ok)
			_exit(0);
		sleep_ms(backoff_pause_ms(&b, lockstep ? UINT32_MAX : backoff_random()));
	}
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

/* The accepts' times after the peer came back, sorted, as the spread. */
static void print_spread(long long *through, int n, long long outage)
{
	int i;

	qsort(through, (size_t)n, sizeof(*through), cmp_ll);
	printf("first_ms %lld\nlast_ms %lld\nspread_ms %lld\nmedian_ms %lld\n", through[0] - outage,
	       through[n - 1] - outage, through[n - 1] - through[0], through[n / 2] - outage);
	printf("through_ms");
	for (i = 0; i < n; i++)
		printf(" %lld", through[i] - outage);
	printf("\n");
}

int main(int argc, char **argv)
{
	int n = argc > 2 ? atoi(argv[1]) : 0, lockstep = argc > 3, i, lfd, pipefd[2];
	long long outage = argc > 2 ? atoll(argv[2]) : 0, start, t;
	static long long through[MAX_AGENTS];
	static unsigned buckets[MAX_BUCKETS] = { 0 };
	struct sockaddr_in peer = { .sin_family = AF_INET };
	socklen_t len = sizeof(peer);
	unsigned worst = 0, attempts = 0;
	int got = 0;

	if (n < 1 || n > MAX_AGENTS || outage < 0 || outage > 250000) {
		fprintf(stderr, "usage: backoff_fleet AGENTS(1-%d) OUTAGE_MS [lockstep]\n",
			MAX_AGENTS);
		return 2;
	}
	peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&peer, sizeof(peer)) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&peer, &len) != 0 || pipe(pipefd) != 0) {
		perror("backoff_fleet");
		return 1;
	}
	start = now_ms();
	for (i = 0; i < n; i++) {
		if (fork() == 0) {
			close(pipefd[0]);
			close(lfd);
			agent(&peer, start, pipefd[1], lockstep);
		}
	}
	close(pipefd[1]);
	sleep_ms(outage - (now_ms() - start));
	if (listen(lfd, MAX_AGENTS) != 0) {
		perror("listen");
		return 1;
	}
	/*
	 * Every attempt's time. The worst half second of the outage is counted
	 * from 3 s on, once the windows have grown (the first ones are short
	 * on purpose: a fast retry after a clean close).
	 */
	while (read(pipefd[0], &t, sizeof(t)) == sizeof(t)) {
		attempts++;
		if (t & THROUGH) {
			if (got < n)
				through[got++] = t & ~THROUGH;
		} else if (t / 500 < MAX_BUCKETS && ++buckets[t / 500] > worst && t >= 3000) {
			worst = buckets[t / 500];
		}
	}
	while (wait(NULL) > 0)
		;
	printf("agents %d\noutage_ms %lld\nattempts %u\nworst_500ms_during_outage %u\n", n, outage,
	       attempts, worst);
	if (got)
		print_spread(through, got, outage);
	printf("through %d\n", got);
	return got == n ? 0 : 1;
}
