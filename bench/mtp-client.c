// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A small libmtp client for the guest cases and the benchmark: what
 * mtp-tools cannot do (rename) and timings of what they do.
 *
 *   mtp-client list               opens the device and lists every file;
 *                                 prints "list N files MS ms"
 *   mtp-client get NAME OUT       fetches the first file called NAME into OUT;
 *                                 prints "get BYTES bytes MS ms"
 *   mtp-client rename OLD NEW     renames the first file or folder called OLD
 *   mtp-client size NAME          prints the size of file NAME
 *   mtp-client getpart NAME OFFSET LEN OUT
 *                                 GetPartialObject(64) of NAME into OUT
 *   mtp-client putpart NAME OFFSET IN
 *                                 writes IN into NAME at OFFSET (SendPartialObject)
 *   mtp-client event SECONDS      prints "ready", then the first event that
 *                                 comes within SECONDS ("event added ID" ...)
 *
 * Built by tests/vm/mkinitramfs.sh when the host has libmtp-dev; it runs on
 * the first MTP device libmtp finds, or the one at MTP_DEVICE=BUS:DEV.
 */
#include <libmtp.h>
#include <signal.h>
#include <unistd.h>
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

/* The first MTP device, or the one at BUS:DEV (MTP_DEVICE) when several are there. */
static LIBMTP_mtpdevice_t *open_device(int uncached, const char *where)
{
	LIBMTP_raw_device_t *raw = NULL;
	LIBMTP_mtpdevice_t *dev = NULL;
	unsigned int bus = 0, devnum = 0;
	int n = 0, i;

	if (where && sscanf(where, "%u:%u", &bus, &devnum) != 2) {
		fprintf(stderr, "mtp-client: MTP_DEVICE wants BUS:DEV, not %s\n", where);
		return NULL;
	}
	if (LIBMTP_Detect_Raw_Devices(&raw, &n) != 0)
		return NULL;
	for (i = 0; i < n && !dev; i++) {
		if (where && (raw[i].bus_location != bus || raw[i].devnum != devnum))
			continue;
		dev = uncached ? LIBMTP_Open_Raw_Device_Uncached(&raw[i])
			       : LIBMTP_Open_Raw_Device(&raw[i]);
	}
	free(raw);
	return dev;
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
	int rc = 1, uncached;
	double t, t0;

	if (argc < 2) {
		fprintf(stderr, "usage: mtp-client list | get NAME OUT | rename OLD NEW\n");
		return 2;
	}
	LIBMTP_Init();
	uncached = strcmp(argv[1], "size") == 0 || strcmp(argv[1], "getpart") == 0 ||
		   strcmp(argv[1], "putpart") == 0;
	/* A cached open already fetches every object's metadata: "list" times both. */
	t0 = now_ms();
	dev = open_device(uncached, getenv("MTP_DEVICE"));
	if (!dev) {
		fprintf(stderr, "mtp-client: no MTP device\n");
		return 1;
	}
	LIBMTP_Get_Storage(dev, LIBMTP_STORAGE_SORTBY_NOTSORTED);
	if (uncached)
		/*
		 * Top-level files, listed one folder at a time: libmtp's fast
		 * listing keeps 32 bits of each size and would clamp offsets.
		 */
		files = dev->storage ? LIBMTP_Get_Files_And_Folders(dev, dev->storage->id,
								    LIBMTP_FILES_AND_FOLDERS_ROOT)
				     : NULL;
	else
		files = LIBMTP_Get_Filelisting_With_Callback(dev, NULL, NULL);
	if (strcmp(argv[1], "list") == 0) {
		int n = 0;

		for (f = files; f; f = f->next)
			n++;
		printf("list %d files %.0f ms\n", n, now_ms() - t0);
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
	} else if (strcmp(argv[1], "size") == 0 && argc == 3) {
		/* The fast listing keeps 32 bits of the size: ask for the object itself. */
		LIBMTP_file_t *meta;

		f = find_file(files, argv[2]);
		meta = f ? LIBMTP_Get_Filemetadata(dev, f->item_id) : NULL;
		if (meta) {
			printf("%llu\n", (unsigned long long)meta->filesize);
			LIBMTP_destroy_file_t(meta);
			rc = 0;
		}
	} else if (strcmp(argv[1], "getpart") == 0 && argc == 6) {
		unsigned char *data = NULL;
		unsigned int size = 0;
		FILE *out;

		f = find_file(files, argv[2]);
		if (f && LIBMTP_GetPartialObject(dev, f->item_id, strtoull(argv[3], NULL, 0),
						 (uint32_t)strtoul(argv[4], NULL, 0), &data,
						 &size) == 0) {
			out = fopen(argv[5], "wb");
			if (out && fwrite(data, 1, size, out) == size && fclose(out) == 0)
				rc = 0;
			printf("getpart %u bytes\n", size);
		}
		free(data);
	} else if (strcmp(argv[1], "putpart") == 0 && argc == 5) {
		static unsigned char buf[1 << 20];
		FILE *in = fopen(argv[4], "rb");
		size_t n = in ? fread(buf, 1, sizeof(buf), in) : 0;

		f = find_file(files, argv[2]);
		if (in && f && LIBMTP_BeginEditObject(dev, f->item_id) == 0 &&
		    LIBMTP_SendPartialObject(dev, f->item_id, strtoull(argv[3], NULL, 0), buf,
					     (unsigned int)n) == 0 &&
		    LIBMTP_EndEditObject(dev, f->item_id) == 0)
			rc = 0;
		if (in)
			fclose(in);
	} else if (strcmp(argv[1], "event") == 0 && argc == 3) {
		LIBMTP_event_t ev;
		uint32_t param = 0;
		static const char *const names[] = { "none",  "store-added", "store-removed",
						     "added", "removed",     "property" };

		printf("ready\n");
		fflush(stdout);
		signal(SIGALRM, SIG_DFL);
		alarm((unsigned int)strtoul(argv[2], NULL, 0));
		if (LIBMTP_Read_Event(dev, &ev, &param) == 0) {
			printf("event %s %u\n",
			       (unsigned int)ev < sizeof(names) / sizeof(names[0]) ? names[ev]
										   : "?",
			       param);
			rc = 0;
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
