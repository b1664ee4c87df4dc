/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The ioctl interface of /dev/dma_harness, between the module and the
 * static user-space helper (harness/helper/), which the host compiles
 * against this very file (-I harness/module). DH_IOC_INFO's version still
 * makes a module and helper from different trees fail loudly. The
 * protocol is harness/PROTOCOL.md, "dma_mmap".
 */
#ifndef DMA_HARNESS_UAPI_H
#define DMA_HARNESS_UAPI_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define DH_UAPI_VERSION		2
#define DH_DEV_PATH		"/dev/dma_harness"

/* What DH_IOC_ALLOC allocates. */
#define DH_BUF_ATTRS		0	/* dma_alloc_attrs(), mapped with dma_mmap_attrs() */
#define DH_BUF_PAGES		1	/* dma_alloc_pages(), dma_mmap_pages() */
#define DH_BUF_NONCONTIG	2	/* dma_alloc_noncontiguous(), dma_mmap_noncontiguous() */

#define DH_VERDICT_OK		0
#define DH_VERDICT_NOT_OK	1
#define DH_VERDICT_SKIP		2

struct dh_ioc_info {
	__u32 version;		/* DH_UAPI_VERSION of the module */
	__u32 nattrs;		/* attribute table size (DH_BUF_ATTRS) */
	__u32 page_size;
	__u32 can_mmap;		/* dma_can_mmap() */
	__u32 device_dma;	/* 1: DH_IOC_EDU works (edu); 0: it fails ENODEV */
	__u32 pad;
};

struct dh_ioc_start {
	__u32 plan;		/* number of tests the helper will report */
	__u32 pad;
};

struct dh_ioc_alloc {
	__u32 kind;		/* in: DH_BUF_* */
	__u32 attr;		/* in: attribute index (DH_BUF_ATTRS) */
	__u64 size;		/* in: bytes */
	__u32 ok;		/* out: 1 when memory was returned */
	__u32 kmap;		/* out: 1 when the kernel has a CPU mapping */
	__u64 dma;		/* out: DMA address of the first byte */
	char name[48];		/* out: "attrs" key value, NUL-terminated */
	char slug[48];		/* out: lower-case name for test names */
};

/* DH_IOC_KFILL writes, DH_IOC_KCHECK compares, through the kernel's view. */
struct dh_ioc_pattern {
	__u64 offset;
	__u64 len;
	__u32 seed;
	__u32 pad;
	__s64 bad;		/* out (KCHECK): first bad offset, or -1 */
};

/* One edu transfer between the buffer and edu's internal buffer. */
struct dh_ioc_edu {
	__u32 to_ram;		/* 0: buffer -> edu, 1: edu -> buffer */
	__u32 len;		/* at most edu's usable window */
	__u64 offset;		/* in the buffer */
	__s32 err;		/* out: 0 or a negative errno */
	__u32 completion;	/* out: 1 interrupt, 2 polled */
	__u64 ns;		/* out */
};

/* One test result; the module prints it as KTAP. */
struct dh_ioc_report {
	char test[48];		/* [a-z0-9_] */
	char kv[384];		/* "key=value key=value" */
	__u32 verdict;		/* DH_VERDICT_* */
	char skip[32];		/* SKIP reason, [a-z0-9_] */
};

#define DH_IOC_INFO	_IOR('D', 0, struct dh_ioc_info)
#define DH_IOC_START	_IOW('D', 1, struct dh_ioc_start)
#define DH_IOC_ALLOC	_IOWR('D', 2, struct dh_ioc_alloc)
#define DH_IOC_FREE	_IO('D', 3)
#define DH_IOC_KFILL	_IOW('D', 4, struct dh_ioc_pattern)
#define DH_IOC_KCHECK	_IOWR('D', 5, struct dh_ioc_pattern)
#define DH_IOC_EDU	_IOWR('D', 6, struct dh_ioc_edu)
#define DH_IOC_REPORT	_IOW('D', 7, struct dh_ioc_report)
#define DH_IOC_DONE	_IO('D', 8)

/*
 * The data pattern both sides write and check: position-dependent and
 * seeded, so that stale data never passes.
 */
static inline __u8 dh_uapi_pattern(__u64 i, __u32 seed)
{
	__u32 x = (__u32)i * 0x9e3779b1u + seed * 0x85ebca6bu;

	return (__u8)((x >> 24) ^ (x >> 11) ^ (__u8)i);
}

#endif /* DMA_HARNESS_UAPI_H */
