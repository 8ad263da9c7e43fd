// SPDX-License-Identifier: GPL-2.0-or-later
#include "match/policy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int policy_add_device(struct usbip_policy *policy, const char *spec, char *err, size_t err_len)
{
	struct usbip_hwid id, *bigger;

	if (selector_parse_hwid(spec, &id, err, err_len) != 0)
		return -1;
	bigger = realloc(policy->devices, (policy->ndevices + 1) * sizeof(*bigger));
	if (!bigger) {
		snprintf(err, err_len, "out of memory");
		return -1;
	}
	policy->devices = bigger;
	policy->devices[policy->ndevices++] = id;
	return 0;
}

int policy_add_network(struct usbip_policy *policy, const char *spec, char *err, size_t err_len)
{
	struct policy_network net = { 0 }, *bigger;
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(spec, '/');
	size_t len = slash ? (size_t)(slash - spec) : strlen(spec);
	char *end;
	unsigned long prefix;

	if (len == 0 || len >= sizeof(addr))
		goto bad;
	memcpy(addr, spec, len);
	addr[len] = '\0';
	if (inet_pton(AF_INET, addr, net.addr) == 1) {
		net.family = AF_INET;
		net.prefix = 32;
	} else if (inet_pton(AF_INET6, addr, net.addr) == 1) {
		net.family = AF_INET6;
		net.prefix = 128;
	} else {
		goto bad;
	}
	if (slash) {
		prefix = strtoul(slash + 1, &end, 10);
		if (!slash[1] || *end || prefix > net.prefix)
			goto bad;
		net.prefix = (unsigned)prefix;
	}
	bigger = realloc(policy->networks, (policy->nnetworks + 1) * sizeof(*bigger));
	if (!bigger) {
		snprintf(err, err_len, "out of memory");
		return -1;
	}
	policy->networks = bigger;
	policy->networks[policy->nnetworks++] = net;
	return 0;
bad:
	snprintf(err, err_len, "'%s' is not an address or ADDR/PREFIX", spec);
	return -1;
}

void policy_free(struct usbip_policy *policy)
{
	free(policy->devices);
	free(policy->networks);
	memset(policy, 0, sizeof(*policy));
}

static bool prefix_matches(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;

	if (memcmp(a, b, whole) != 0)
		return false;
	return !rest || ((a[whole] ^ b[whole]) & (0xff << (8 - rest))) == 0;
}

bool policy_allows_peer(const struct usbip_policy *policy, const struct sockaddr *addr)
{
	static const uint8_t v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	const uint8_t *bytes;
	int family = addr->sa_family;
	unsigned i;

	if (!policy->nnetworks)
		return true;
	if (family == AF_INET) {
		bytes = (const uint8_t *)&((const struct sockaddr_in *)addr)->sin_addr;
	} else if (family == AF_INET6) {
		bytes = (const uint8_t *)&((const struct sockaddr_in6 *)addr)->sin6_addr;
		/* An IPv4 peer on a dual-stack socket is matched as IPv4. */
		if (memcmp(bytes, v4_mapped, sizeof(v4_mapped)) == 0) {
			family = AF_INET;
			bytes += sizeof(v4_mapped);
		}
	} else {
		return false;
	}
	for (i = 0; i < policy->nnetworks; i++) {
		const struct policy_network *n = &policy->networks[i];

		if (n->family == family && prefix_matches(n->addr, bytes, n->prefix))
			return true;
	}
	return false;
}

bool policy_allows_device(const struct usbip_policy *policy, const struct usbip_usb_device *udev)
{
	unsigned i;

	if (!policy->ndevices)
		return true;
	for (i = 0; i < policy->ndevices; i++)
		if (selector_hwid_matches(&policy->devices[i], udev->id_vendor, udev->id_product,
					  udev->serial))
			return true;
	return false;
}

bool policy_names_device(const struct usbip_policy *policy, uint16_t vendor, uint16_t product,
			 const char *serial)
{
	unsigned i;

	for (i = 0; i < policy->ndevices; i++)
		if (selector_hwid_matches(&policy->devices[i], vendor, product, serial))
			return true;
	return false;
}

/*
 * A decimal id below (id_t)-1, which means "none" to the kernel, or the
 * name of a user (user) or of a group: 0 with it in *id, or -1.
 */
static int parse_id(const char *spec, bool user, unsigned long *id)
{
	const struct passwd *pw;
	const struct group *gr;
	char *end;

	if (spec[0] >= '0' && spec[0] <= '9') {
		errno = 0;
		*id = strtoul(spec, &end, 10);
		return errno || *end || *id >= UINT_MAX ? -1 : 0;
	}
	if (!spec[0])
		return -1;
	if (user) {
		pw = getpwnam(spec);
		*id = pw ? pw->pw_uid : 0;
		return pw ? 0 : -1;
	}
	gr = getgrnam(spec);
	*id = gr ? gr->gr_gid : 0;
	return gr ? 0 : -1;
}

/* One line for a --allow-uid or --allow-gid refused; -1. */
static int id_error(char *err, size_t err_len, bool user, bool full, const char *spec)
{
	if (full)
		snprintf(err, err_len, "at most %d --allow-%s", POLICY_MAX_IDS,
			 user ? "uid" : "gid");
	else
		snprintf(err, err_len, "--allow-%s: '%s' is neither a %s nor a %s",
			 user ? "uid" : "gid", spec, user ? "uid" : "gid", user ? "user" : "group");
	return -1;
}

int policy_add_uid(struct policy_creds *creds, const char *spec, char *err, size_t err_len)
{
	bool full = creds->nuids == POLICY_MAX_IDS;
	unsigned long id;

	if (full || parse_id(spec, true, &id) != 0)
		return id_error(err, err_len, true, full, spec);
	creds->uids[creds->nuids++] = (uid_t)id;
	return 0;
}

int policy_add_gid(struct policy_creds *creds, const char *spec, char *err, size_t err_len)
{
	bool full = creds->ngids == POLICY_MAX_IDS;
	unsigned long id;

	if (full || parse_id(spec, false, &id) != 0)
		return id_error(err, err_len, false, full, spec);
	creds->gids[creds->ngids++] = (gid_t)id;
	return 0;
}

bool policy_allows_cred(const struct policy_creds *creds, uid_t uid, gid_t gid)
{
	unsigned i;

	if (!creds || (!creds->nuids && !creds->ngids))
		return true;
	for (i = 0; i < creds->nuids; i++)
		if (creds->uids[i] == uid)
			return true;
	for (i = 0; i < creds->ngids; i++)
		if (creds->gids[i] == gid)
			return true;
	return false;
}
