// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A small libmtp client for the guest cases and the benchmark: what
 * mtp-tools cannot do (rename) and timings of what they do.
 *
 *   mtp-client list               lists every file; prints "list N files MS ms"
 *   mtp-client get NAME OUT       fetches the first file called NAME into OUT;
 *                                 prints "get BYTES bytes MS ms"
 *   mtp-client rename OLD NEW     renames the first file or folder called OLD
 *
 * Built by tests/vm/mkinitramfs.sh when the host has libmtp-dev; it runs on
 * the first MTP device libmtp finds.
 */
#include <libmtp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static LIBMTP_file_t *find_file(LIBMTP_file_t *files, const char *name)
{
	for (; files; files = files->next)
		if (strcmp(files->filename, name) == 0)
			return files;
	return NULL;
}

static LIBMTP_folder_t *find_folder(LIBMTP_folder_t *f, const char *name)
{
	LIBMTP_folder_t *hit;

	for (; f; f = f->sibling) {
		if (strcmp(f->name, name) == 0)
			return f;
		hit = find_folder(f->child, name);
		if (hit)
			return hit;
	}
	return NULL;
}

static void free_files(LIBMTP_file_t *files)
{
	while (files) {
		LIBMTP_file_t *next = files->next;

		LIBMTP_destroy_file_t(files);
		files = next;
	}
}

int main(int argc, char **argv)
{
	LIBMTP_mtpdevice_t *dev;
	LIBMTP_file_t *files = NULL, *f;
	int rc = 1;
	double t;

	if (argc < 2) {
		fprintf(stderr, "usage: mtp-client list | get NAME OUT | rename OLD NEW\n");
		return 2;
	}
	LIBMTP_Init();
	dev = LIBMTP_Get_First_Device();
	if (!dev) {
		fprintf(stderr, "mtp-client: no MTP device\n");
		return 1;
	}
	LIBMTP_Get_Storage(dev, LIBMTP_STORAGE_SORTBY_NOTSORTED);
	t = now_ms();
	files = LIBMTP_Get_Filelisting_With_Callback(dev, NULL, NULL);
	if (strcmp(argv[1], "list") == 0) {
		int n = 0;

		for (f = files; f; f = f->next)
			n++;
		printf("list %d files %.0f ms\n", n, now_ms() - t);
		rc = 0;
	} else if (strcmp(argv[1], "get") == 0 && argc == 4) {
		f = find_file(files, argv[2]);
		if (!f) {
			fprintf(stderr, "mtp-client: no file %s\n", argv[2]);
		} else {
			t = now_ms();
			rc = LIBMTP_Get_File_To_File(dev, f->item_id, argv[3], NULL, NULL) ? 1 : 0;
			if (rc == 0)
				printf("get %llu bytes %.0f ms\n", (unsigned long long)f->filesize,
				       now_ms() - t);
		}
	} else if (strcmp(argv[1], "rename") == 0 && argc == 4) {
		f = find_file(files, argv[2]);
		if (f) {
			rc = LIBMTP_Set_File_Name(dev, f, argv[3]) ? 1 : 0;
		} else {
			LIBMTP_folder_t *folders = LIBMTP_Get_Folder_List(dev), *d;

			d = find_folder(folders, argv[2]);
			if (d)
				rc = LIBMTP_Set_Folder_Name(dev, d, argv[3]) ? 1 : 0;
			else
				fprintf(stderr, "mtp-client: no file or folder %s\n", argv[2]);
			LIBMTP_destroy_folder_t(folders);
		}
	} else {
		fprintf(stderr, "mtp-client: bad arguments\n");
		rc = 2;
	}
	if (rc == 1)
		LIBMTP_Dump_Errorstack(dev);
	free_files(files);
	LIBMTP_Release_Device(dev);
	return rc;
}
