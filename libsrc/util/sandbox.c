// SPDX-License-Identifier: GPL-2.0-or-later
#include "util/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/log.h"

const struct sandbox_path sandbox_resolver_paths[] = {
	/* resolv.conf, hosts, nsswitch.conf, gai.conf, ld.so.cache; replaced files too */
	{ "/etc", false },
	/* NSS modules that nsswitch.conf may name (libnss_resolve, libnss_mdns) */
	{ "/usr/lib", false },
	{ "/lib", false },
	/* where resolv.conf points with systemd-resolved or resolvconf */
	{ "/run/systemd/resolve", false },
	{ "/run/resolvconf", false },
};
const size_t sandbox_resolver_npaths =
	sizeof(sandbox_resolver_paths) / sizeof(sandbox_resolver_paths[0]);

/* The rights of each Landlock ABI version, cumulative. */
static uint64_t handled_rights(int abi)
{
	uint64_t rights = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* ABI 1: bits 0..12 */

	if (abi >= 2)
		rights |= LANDLOCK_ACCESS_FS_REFER;
#ifdef LANDLOCK_ACCESS_FS_TRUNCATE
	if (abi >= 3)
		rights |= LANDLOCK_ACCESS_FS_TRUNCATE;
#endif
	return rights;
}

/* The rights that apply to a file that is not a directory. */
static uint64_t file_rights(uint64_t rights)
{
	uint64_t file = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
			LANDLOCK_ACCESS_FS_READ_FILE;

#ifdef LANDLOCK_ACCESS_FS_TRUNCATE
	file |= LANDLOCK_ACCESS_FS_TRUNCATE;
#endif
	return rights & file;
}

/* One path's rule; 0 also for a path that is not there. */
static int add_path(int ruleset, const struct sandbox_path *p, uint64_t handled)
{
	struct landlock_path_beneath_attr rule = { 0 };
	struct stat st;
	uint64_t read = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
	int fd = open(p->path, O_PATH | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return -1;
	}
	/* Reading everything; writing everything but executing. */
	rule.allowed_access = p->writable ? handled & ~LANDLOCK_ACCESS_FS_EXECUTE : read;
	if (!S_ISDIR(st.st_mode))
		rule.allowed_access = file_rights(rule.allowed_access);
	rule.parent_fd = fd;
	rc = (int)syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0);
	close(fd);
	return rc;
}

int sandbox_prepare(const struct sandbox_path *paths, size_t n, const struct sandbox_path *extra,
		    size_t nextra)
{
	static bool said;
	struct landlock_ruleset_attr attr = { 0 };
	int abi, ruleset;
	size_t i;

	abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 0) {
		if (!said)
			log_info("no Landlock in this kernel: file access is not confined further");
		said = true;
		return SANDBOX_NONE;
	}
	attr.handled_access_fs = handled_rights(abi);
	ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (ruleset < 0) {
		log_err("landlock_create_ruleset: %s", strerror(errno));
		return -1;
	}
#ifdef SANDBOX_ASAN
	{
		/* LeakSanitizer reads /proc/self when the process exits. */
		static const struct sandbox_path proc = { "/proc", false };

		if (add_path(ruleset, &proc, attr.handled_access_fs) != 0)
			log_warn("cannot leave /proc to LeakSanitizer: %s", strerror(errno));
	}
#endif
	for (i = 0; i < n + nextra; i++) {
		const struct sandbox_path *p = i < n ? &paths[i] : &extra[i - n];

		if (add_path(ruleset, p, attr.handled_access_fs) != 0) {
			log_err("cannot confine to %s: %s", p->path, strerror(errno));
			close(ruleset);
			return -1;
		}
	}
	return ruleset;
}

int sandbox_enter(int ruleset)
{
	if (ruleset == SANDBOX_NONE)
		return 0;
	if (ruleset < 0)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    syscall(SYS_landlock_restrict_self, ruleset, 0) != 0) {
		log_err("landlock_restrict_self: %s", strerror(errno));
		close(ruleset);
		return -1;
	}
	close(ruleset);
	return 0;
}

void sandbox_discard(int ruleset)
{
	if (ruleset >= 0)
		close(ruleset);
}
