// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Properties: the object properties MTP initiators read (one at a time or
 * as a list), the renaming they allow, and the device's own properties.
 */
#include "mtp/mtp_prop.h"

#include "mtp/mtp_object.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define BATTERY_LEVEL 100 /* a folder has no battery to run down: always full */

static const uint16_t device_props[] = {
	PTP_DPC_BatteryLevel,
	PTP_DPC_SynchronizationPartner,
	PTP_DPC_DeviceFriendlyName,
};
static const uint16_t object_props[] = {
	MTP_OPC_StorageID,    MTP_OPC_ObjectFormat,   MTP_OPC_ProtectionStatus,
	MTP_OPC_ObjectSize,   MTP_OPC_ObjectFileName, MTP_OPC_DateModified,
	MTP_OPC_ParentObject, MTP_OPC_PersistentUID,  MTP_OPC_Name,
};

size_t mtp_prop_device_codes(const uint16_t **codes)
{
	*codes = device_props;
	return ARRAY_SIZE(device_props);
}

/* Property prop of object e (device-wide handles) in storage s (NULL: a default value). */
static bool prop_value(const struct mtp_storage *s, const struct mtp_entry *e, uint16_t prop,
		       struct mtp_value *v, char *date, size_t date_cap)
{
	memset(v, 0, sizeof(*v));
	switch (prop) {
	case MTP_OPC_StorageID:
		*v = (struct mtp_value){ .type = PTP_DTC_UINT32, .u = s ? s->id : 0 };
		return true;
	case MTP_OPC_ObjectFormat:
		*v = (struct mtp_value){ .type = PTP_DTC_UINT16, .u = mtp_object_format_of(e) };
		return true;
	case MTP_OPC_ProtectionStatus:
		*v = (struct mtp_value){ .type = PTP_DTC_UINT16, .u = 0 };
		return true;
	case MTP_OPC_ObjectSize:
		*v = (struct mtp_value){ .type = PTP_DTC_UINT64, .u = e->size };
		return true;
	case MTP_OPC_ObjectFileName:
	case MTP_OPC_Name:
		*v = (struct mtp_value){ .type = PTP_DTC_STR, .str = e->name };
		return true;
	case MTP_OPC_DateModified:
		mtp_object_date(e->mtime, date, date_cap);
		*v = (struct mtp_value){ .type = PTP_DTC_STR, .str = date };
		return true;
	case MTP_OPC_ParentObject:
		*v = (struct mtp_value){ .type = PTP_DTC_UINT32, .u = e->parent };
		return true;
	case MTP_OPC_PersistentUID:
		*v = (struct mtp_value){ .type = PTP_DTC_UINT128, .u = e->ino, .hi = e->dev };
		return true;
	}
	return false;
}

static bool prop_known(uint16_t prop)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(object_props); i++)
		if (object_props[i] == prop)
			return true;
	return false;
}

/* ---- device properties ---- */

/* The string an initiator may set for device property prop, or NULL. */
static char *device_string(struct mtp_device *m, uint32_t prop, size_t *cap)
{
	*cap = MTP_NAME_MAX;
	if (prop == PTP_DPC_DeviceFriendlyName)
		return m->friendly;
	if (prop == PTP_DPC_SynchronizationPartner)
		return m->sync_partner;
	return NULL;
}

/*
 * GetDevicePropDesc / GetDevicePropValue: BatteryLevel (UINT8 0..100,
 * read-only), SynchronizationPartner and DeviceFriendlyName (strings an
 * initiator may set; Windows names the device with the latter).
 */
void mtp_prop_device(struct mtp_device *m, struct mtp_result *r)
{
	uint32_t prop = m->op.params[0];
	const struct mtp_value range[3] = { { .type = PTP_DTC_UINT8, .u = 0 },
					    { .type = PTP_DTC_UINT8, .u = 100 },
					    { .type = PTP_DTC_UINT8, .u = 1 } };
	struct mtp_value v, def;
	struct mtp_buf b = { 0 };
	size_t cap;

	if (prop == PTP_DPC_BatteryLevel) {
		v = def = (struct mtp_value){ .type = PTP_DTC_UINT8, .u = BATTERY_LEVEL };
	} else if (device_string(m, prop, &cap)) {
		v = (struct mtp_value){ .type = PTP_DTC_STR, .str = device_string(m, prop, &cap) };
		def = (struct mtp_value){ .type = PTP_DTC_STR,
					  .str = prop == PTP_DPC_DeviceFriendlyName ? m->name
										    : "" };
	} else {
		mtp_result_rc(r, PTP_RC_DevicePropNotSupported);
		return;
	}
	if (m->op.code == PTP_OC_GetDevicePropDesc)
		mtp_container_encode_device_prop_desc(&b, (uint16_t)prop, &def, &v,
						      prop != PTP_DPC_BatteryLevel,
						      prop == PTP_DPC_BatteryLevel ? range : NULL);
	else
		mtp_container_put_value(&b, &v);
	mtp_result_dataset(r, &b);
}

void mtp_prop_set_device(struct mtp_device *m, struct mtp_result *r)
{
	size_t cap;

	if (m->op.params[0] == PTP_DPC_BatteryLevel)
		mtp_result_rc(r, PTP_RC_AccessDenied);
	else if (!device_string(m, m->op.params[0], &cap))
		mtp_result_rc(r, PTP_RC_DevicePropNotSupported);
	else
		mtp_result_into_buffer(r);
}

/* Whether the data phase of a Set...Value was one MTP string and nothing else. */
static bool dataset_string(const struct mtp_device *m, char *out, size_t cap)
{
	struct mtp_reader rd;

	mtp_container_reader_init(&rd, m->dataset.data, m->dataset.len);
	mtp_container_get_string(&rd, out, cap, "value");
	return !rd.failed && rd.off == rd.len;
}

/* The value lasts until serve-mtp stops. */
void mtp_prop_set_device_done(struct mtp_device *m, struct mtp_result *r)
{
	char value[MTP_NAME_MAX];
	size_t cap;
	char *dst = device_string(m, m->op.params[0], &cap);

	if (!dataset_string(m, value, sizeof(value)) || !dst) {
		mtp_result_rc(r, PTP_RC_InvalidDevicePropValue);
		return;
	}
	snprintf(dst, cap, "%s", value);
	mtp_result_rc(r, PTP_RC_OK);
}

/* ---- object properties ---- */

void mtp_prop_supported(struct mtp_device *m, struct mtp_result *r)
{
	struct mtp_buf b = { 0 };

	mtp_container_put_u16_array(&b, object_props, ARRAY_SIZE(object_props));
	mtp_result_dataset(r, &b);
}

void mtp_prop_desc(struct mtp_device *m, struct mtp_result *r)
{
	uint16_t prop = (uint16_t)m->op.params[0];
	struct mtp_entry none = { .name = "" };
	struct mtp_value def;
	char date[32];
	struct mtp_buf b = { 0 };
	bool settable = false;
	size_t i;

	if (m->op.params[0] > 0xffff || !prop_known(prop)) {
		mtp_result_rc(r, MTP_RC_InvalidObjectPropCode);
		return;
	}
	/* The description is of the format, not of a storage: settable if a name can change
	 * anywhere. */
	for (i = 0; i < m->num_storages; i++)
		settable |= !m->storages[i].read_only;
	settable &= prop == MTP_OPC_ObjectFileName || prop == MTP_OPC_Name;
	prop_value(NULL, &none, prop, &def, date, sizeof(date));
	if (def.type == PTP_DTC_STR)
		def.str = "";
	else
		def.u = def.hi = 0;
	mtp_container_encode_object_prop_desc(&b, prop, &def, settable, 0);
	mtp_result_dataset(r, &b);
}

void mtp_prop_value(struct mtp_device *m, struct mtp_result *r)
{
	struct mtp_storage *s;
	struct mtp_entry e;
	struct mtp_value v;
	char date[32];
	struct mtp_buf b = { 0 };

	if (mtp_object_entry(m, m->op.params[0], &s, &e)) {
		mtp_result_rc(r, PTP_RC_InvalidObjectHandle);
		return;
	}
	if (m->op.params[1] > 0xffff ||
	    !prop_value(s, &e, (uint16_t)m->op.params[1], &v, date, sizeof(date))) {
		mtp_result_rc(r, MTP_RC_InvalidObjectPropCode);
		return;
	}
	mtp_container_put_value(&b, &v);
	mtp_result_dataset(r, &b);
}

static void put_props(struct mtp_buf *b, const struct mtp_storage *s, const struct mtp_entry *e,
		      uint32_t prop, uint32_t *n)
{
	size_t i;
	char date[32];
	struct mtp_value v;

	for (i = 0; i < ARRAY_SIZE(object_props); i++) {
		if (prop != 0xffffffffu && prop != object_props[i])
			continue;
		prop_value(s, e, object_props[i], &v, date, sizeof(date));
		mtp_container_put_prop_element(b, e->handle, object_props[i], &v);
		(*n)++;
	}
}

/*
 * The objects GetObjectPropList asks about (MTP 1.1 D.2.26): 0xffffffff is
 * every object; otherwise depth 0 is the object itself, 1 its children,
 * 0xffffffff all below it. Handle 0 is the top, which is no object: depth
 * 0 names nothing, 1 the top level, 0xffffffff everything.
 */
static int prop_list_handles(struct mtp_device *m, uint32_t h, uint32_t depth, uint32_t **handles,
			     size_t *count)
{
	struct mtp_storage *s;
	struct mtp_entry e;

	*handles = NULL;
	*count = 0;
	if (h == MTP_ALL_HANDLES)
		return mtp_object_list(m, NULL, 0, true, handles, count);
	if (h != 0 && mtp_object_entry(m, h, &s, &e))
		return -ENOENT;
	if (depth == 0) {
		if (h == 0)
			return 0;
		*handles = malloc(sizeof(**handles));
		if (!*handles)
			return -ENOMEM;
		(*handles)[0] = h;
		*count = 1;
		return 0;
	}
	if (h != 0 && !e.is_dir)
		return 0; /* a file has nothing below it */
	return mtp_object_list(m, NULL, h, depth != 1, handles, count);
}

/* GetObjectPropList: handle, format, property (0xffffffff: all), group, depth. */
void mtp_prop_list(struct mtp_device *m, struct mtp_result *r)
{
	uint32_t h = m->op.params[0], format = m->op.params[1], prop = m->op.params[2];
	uint32_t group = m->op.params[3], depth = m->op.params[4], n = 0, *handles;
	size_t count, i;
	struct mtp_buf b = { 0 };
	struct mtp_storage *s;
	struct mtp_entry e;
	int rc;

	if (prop == 0) {
		mtp_result_rc(r, group ? MTP_RC_SpecificationByGroupUnsupported
				       : MTP_RC_InvalidObjectPropCode);
		return;
	}
	if (prop != 0xffffffffu && (prop > 0xffff || !prop_known((uint16_t)prop))) {
		mtp_result_rc(r, MTP_RC_InvalidObjectPropCode);
		return;
	}
	if (depth != 0 && depth != 1 && depth != 0xffffffffu) {
		mtp_result_rc(r, MTP_RC_SpecificationByDepthUnsupported);
		return;
	}
	rc = prop_list_handles(m, h, depth, &handles, &count);
	if (rc) {
		mtp_result_rc(r, rc == -ENOENT || rc == -ENOTDIR ? PTP_RC_InvalidObjectHandle
								 : mtp_result_rc_of_errno(rc));
		return;
	}
	mtp_container_put_u32(&b, 0); /* the count, patched below */
	for (i = 0; i < count; i++) {
		if (mtp_object_peek(m, handles[i], &s, &e))
			continue;
		if (format && mtp_object_format_of(&e) != format)
			continue;
		put_props(&b, s, &e, prop, &n);
	}
	free(handles);
	mtp_container_patch_u32(&b, 0, n);
	mtp_result_dataset(r, &b);
}

/* SetObjectPropValue: the file name (ObjectFileName or Name) is the one that can change. */
void mtp_prop_set_value(struct mtp_device *m, struct mtp_result *r)
{
	uint16_t prop = (uint16_t)m->op.params[1];
	uint16_t rc = 0;
	struct mtp_storage *s;
	struct mtp_entry e;

	if (mtp_object_entry(m, m->op.params[0], &s, &e))
		rc = PTP_RC_InvalidObjectHandle;
	else if (m->op.params[1] > 0xffff || !prop_known(prop))
		rc = MTP_RC_InvalidObjectPropCode;
	else if (prop != MTP_OPC_ObjectFileName && prop != MTP_OPC_Name)
		rc = PTP_RC_AccessDenied;
	else if (s->read_only)
		rc = PTP_RC_StoreReadOnly;
	if (rc)
		mtp_result_rc(r, rc);
	else
		mtp_result_into_buffer(r);
}

void mtp_prop_set_value_done(struct mtp_device *m, struct mtp_result *r)
{
	char name[MTP_NAME_MAX];
	uint32_t local;
	struct mtp_storage *s = mtp_object_find(m, m->op.params[0], &local);
	int rc;

	if (!dataset_string(m, name, sizeof(name)) || !mtp_store_name_ok(name)) {
		mtp_result_rc(r, MTP_RC_InvalidObjectPropValue);
		return;
	}
	rc = s ? mtp_store_rename(s->store, local, name) : -ENOENT;
	mtp_result_rc(r, rc == -EEXIST ? PTP_RC_AccessDenied
			 : rc	       ? mtp_result_rc_of_errno(rc)
				       : PTP_RC_OK);
}
