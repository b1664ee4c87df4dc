// SPDX-License-Identifier: GPL-2.0
/*
 * dma-harness-helper: the user-space half of the dma_mmap suite.
 *
 * Runs in the guest after the module is loaded (the init starts it), opens
 * /dev/dma_harness and, for every buffer kind the module offers, maps the
 * buffer with mmap() (which the module hands to dma_mmap_attrs(),
 * dma_mmap_pages() or dma_mmap_noncontiguous()) and checks the user view:
 * patterns written on each side are seen on the other, edu's writes are
 * seen (when there is one: not in the noncoherent variant), page offsets
 * select the right pages, out-of-range requests are refused, and what
 * /proc/self/smaps says of the mapping. Each test result
 * goes back to the module (DH_IOC_REPORT), which prints it as KTAP: this
 * program never prints KTAP itself, and writes only diagnostics prefixed
 * "dma-harness-helper:" to stderr. harness/PROTOCOL.md, "dma_mmap".
 *
 * Built static with the guest's cross gcc:
 *   <prefix>gcc -static -O2 -Wall -o dma-harness-helper harness/helper/[all .c]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dh_uapi.h"

#define PROG		"dma-harness-helper"
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define POISON		0x5a
/* edu's usable window: see harness/module/edu.h (EDU_XFER_LEN). */
#define XFER_LEN	4088
#define BUF_PAGES	4
#define OPEN_TRIES	50	/* devtmpfs creates the node asynchronously */

/* Tests per attribute, and per extra buffer kind (pages, noncontiguous). */
#define TESTS_PER_ATTR	4
#define EXTRA_KINDS	2
#define TESTS_PER_KIND	3

struct kv {
	char buf[384];
	size_t len;
};

static int dev_fd = -1;
static size_t page_size;
static unsigned int can_mmap;
static unsigned int device_dma;	/* 0: no edu, DH_IOC_EDU fails */

static void warnx(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void kv_add(struct kv *kv, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (kv->len >= sizeof(kv->buf))
		return;
	va_start(ap, fmt);
	n = vsnprintf(kv->buf + kv->len, sizeof(kv->buf) - kv->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		kv->len += n;
	if (kv->len >= sizeof(kv->buf))
		kv->len = sizeof(kv->buf) - 1;
}

static void send_report(const char *test, struct kv *kv, unsigned int verdict,
		   const char *skip)
{
	struct dh_ioc_report r;
	const char *k = kv->buf;

	memset(&r, 0, sizeof(r));
	snprintf(r.test, sizeof(r.test), "%s", test);
	/* kv_add() always starts with a space; the module adds its own. */
	while (*k == ' ')
		k++;
	snprintf(r.kv, sizeof(r.kv), "%s", k);
	r.verdict = verdict;
	if (skip)
		snprintf(r.skip, sizeof(r.skip), "%s", skip);
	if (ioctl(dev_fd, DH_IOC_REPORT, &r))
		warnx("report %s: %s", test, strerror(errno));
}

static void fill(uint8_t *p, size_t len, uint32_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = dh_uapi_pattern(i, seed);
}

/* First offset where p is not the pattern, or -1. */
static long check(const uint8_t *p, size_t len, uint32_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != dh_uapi_pattern(i, seed))
			return (long)i;
	return -1;
}

/* First offset of p that is not zero, or -1. */
static long first_nonzero(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i])
			return (long)i;
	return -1;
}

/* First offset of buf that is neither the window's pattern nor poison. */
static long check_window(const uint8_t *buf, size_t total, size_t off,
			 size_t len, uint32_t seed)
{
	size_t i;

	for (i = 0; i < total; i++) {
		uint8_t want = (i >= off && i < off + len) ?
			       dh_uapi_pattern(i - off, seed) : POISON;

		if (buf[i] != want)
			return (long)i;
	}
	return -1;
}

static int kpattern(unsigned long cmd, size_t off, size_t len,
		    uint32_t seed, long *bad)
{
	struct dh_ioc_pattern p = {
		.offset = off, .len = len, .seed = seed,
	};

	if (ioctl(dev_fd, cmd, &p))
		return -errno;
	if (bad)
		*bad = (long)p.bad;
	return 0;
}

static int edu(int to_ram, size_t off, struct dh_ioc_edu *x)
{
	memset(x, 0, sizeof(*x));
	x->to_ram = to_ram;
	x->offset = off;
	x->len = XFER_LEN;
	if (ioctl(dev_fd, DH_IOC_EDU, x))
		return -errno;
	return x->err;
}

/*
 * Finds the mapping at addr in /proc/self/smaps and adds its VmFlags (as
 * vmflags=rd,wr,...) and Rss; returns the flags in flags (space separated
 * two-letter words, as the kernel prints them).
 */
static void read_smaps(void *addr, struct kv *kv, char *flags, size_t flen)
{
	unsigned long want = (unsigned long)addr, start, end;
	char line[512];
	int in = 0, found = 0;
	unsigned long rss = 0;
	FILE *f;

	flags[0] = '\0';
	f = fopen("/proc/self/smaps", "r");
	if (!f) {
		kv_add(kv, " smaps=0");
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in = start == want;
			continue;
		}
		if (!in)
			continue;
		if (sscanf(line, "Rss: %lu kB", &rss) == 1)
			continue;
		if (!strncmp(line, "VmFlags:", 8)) {
			char *p = line + 8;

			while (*p == ' ')
				p++;
			p[strcspn(p, "\n")] = '\0';
			while (p[0] && p[strlen(p) - 1] == ' ')
				p[strlen(p) - 1] = '\0';
			snprintf(flags, flen, "%s", p);
			found = 1;
			break;
		}
	}
	fclose(f);
	kv_add(kv, " smaps=%d", found);
	if (!found)
		return;
	kv_add(kv, " rss_kb=%lu vmflags=", rss);
	{
		char tmp[160], *p;

		snprintf(tmp, sizeof(tmp), "%s", flags);
		for (p = tmp; *p; p++)
			if (*p == ' ')
				*p = ',';
		kv_add(kv, "%s", tmp);
	}
}

static int has_flag(const char *flags, const char *flag)
{
	const char *p = flags;
	size_t n = strlen(flag);

	while ((p = strstr(p, flag))) {
		if ((p == flags || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
			return 1;
		p += n;
	}
	return 0;
}

static const char *completion_name(unsigned int c)
{
	return c == 1 ? "irq" : c == 2 ? "poll" : "none";
}

/*
 * The main test of a buffer: both CPU views agree (when the kernel has
 * one) and edu's transfers through the buffer are what user space wrote
 * and sees. Returns 1 when the mapping worked.
 */
static int test_map(const char *test, size_t size, int kmap, uint32_t seed)
{
	size_t src = size - XFER_LEN, dst = 2 * page_size - XFER_LEN / 2;
	const char *reason = NULL;
	struct dh_ioc_edu x1, x2;
	struct kv kv = { .len = 0 };
	char flags[160];
	uint8_t *m;
	long bad;
	int ret;

	m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, dev_fd, 0);
	if (m == MAP_FAILED) {
		int err = errno;

		kv_add(&kv, " mmap_ok=0 mmap_errno=%d can_mmap=%u", err,
		       can_mmap);
		/* dma_can_mmap() said no: a refusal is what it promised. */
		if (can_mmap)
			kv_add(&kv, " reason=mmap_refused");
		send_report(test, &kv, can_mmap ? DH_VERDICT_NOT_OK : DH_VERDICT_OK,
		       NULL);
		return 0;
	}
	kv_add(&kv, " mmap_ok=1");
	/*
	 * The buffer was just allocated and nothing wrote it yet: what user
	 * space reads first is what dma_alloc_attrs() handed out (the only
	 * view of a NO_KERNEL_MAPPING buffer's zeroing).
	 */
	kv_add(&kv, " user_zeroed=%d", first_nonzero(m, size) < 0);
	read_smaps(m, &kv, flags, sizeof(flags));
	kv_add(&kv, " vm_io=%d vm_pfnmap=%d vm_dontdump=%d vm_dontexpand=%d",
	       has_flag(flags, "io"), has_flag(flags, "pf"),
	       has_flag(flags, "dd"), has_flag(flags, "de"));

	if (kmap) {
		/* Kernel writes, user reads; then the other way round. */
		ret = kpattern(DH_IOC_KFILL, 0, size, seed, NULL);
		bad = ret ? 0 : check(m, size, seed);
		kv_add(&kv, " user_sees_kernel=%d", !ret && bad < 0);
		if (!ret && bad >= 0)
			kv_add(&kv, " user_mismatch_offset=%ld", bad);
		fill(m, size, seed + 1);
		ret = ret ? ret : kpattern(DH_IOC_KCHECK, 0, size, seed + 1,
					   &bad);
		kv_add(&kv, " kernel_sees_user=%d", !ret && bad < 0);
		if (!ret && bad >= 0)
			kv_add(&kv, " kernel_mismatch_offset=%ld", bad);
		if (ret) {
			kv_add(&kv, " errno=%d", -ret);
			reason = "ioctl_failed";
		} else if (bad >= 0 || strstr(kv.buf, "user_sees_kernel=0")) {
			reason = "user_kernel_mismatch";
		}
	}

	if (!device_dma) {
		/* The noncoherent variant: no device to move data. */
		kv_add(&kv, " device_dma=0");
		goto out;
	}

	/* User writes, edu reads it (last page), edu writes, user reads. */
	memset(m, POISON, size);
	fill(m + src, XFER_LEN, seed + 2);
	ret = edu(0, src, &x1);
	if (!ret) {
		memset(m, POISON, size);
		ret = edu(1, dst, &x2);
	}
	kv_add(&kv, " bytes=%d src_offset=%zu dst_offset=%zu", XFER_LEN, src,
	       dst);
	if (ret) {
		kv_add(&kv, " edu_errno=%d", -ret);
		if (!reason)
			reason = ret == -ERANGE ? "outside_mask" :
				 ret == -ETIMEDOUT ? "dma_timeout" :
				 "dma_error";
	} else {
		bad = check_window(m, size, dst, XFER_LEN, seed + 2);
		kv_add(&kv, " roundtrip=%d completion=%s", bad < 0,
		       completion_name(x2.completion == 2 ? 2 :
				       x1.completion));
		if (bad >= 0) {
			kv_add(&kv, " mismatch_offset=%ld", bad);
			if (!reason)
				reason = "data_mismatch";
		}
		kv_add(&kv, " transfer_ns=%llu",
		       (unsigned long long)(x1.ns + x2.ns));
	}
out:
	munmap(m, size);
	if (reason)
		kv_add(&kv, " reason=%s", reason);
	send_report(test, &kv, reason ? DH_VERDICT_NOT_OK : DH_VERDICT_OK, NULL);
	return 1;
}

/* Mappings at a page offset see the buffer's pages from that offset on. */
static void test_pgoff(const char *test, size_t size, uint32_t seed)
{
	size_t p = page_size;
	const char *reason = NULL;
	struct kv kv = { .len = 0 };
	uint8_t *whole, *mid, *last;
	long bad_mid = -2, bad_last = -2;
	int shared_ok = 0;

	whole = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, dev_fd,
		     0);
	mid = mmap(NULL, 2 * p, PROT_READ | PROT_WRITE, MAP_SHARED, dev_fd, p);
	last = mmap(NULL, p, PROT_READ | PROT_WRITE, MAP_SHARED, dev_fd,
		    size - p);
	kv_add(&kv, " pgoff_mid=1 pgoff_last=%zu", size / p - 1);
	if (whole == MAP_FAILED || mid == MAP_FAILED || last == MAP_FAILED) {
		kv_add(&kv, " whole_ok=%d mid_ok=%d last_ok=%d errno=%d",
		       whole != MAP_FAILED, mid != MAP_FAILED,
		       last != MAP_FAILED, errno);
		reason = "pgoff_refused";
	} else {
		fill(whole, size, seed);
		/* mid[i] must be whole[p + i]: pattern at p + i. */
		bad_mid = -1;
		for (size_t i = 0; i < 2 * p; i++)
			if (mid[i] != dh_uapi_pattern(p + i, seed)) {
				bad_mid = (long)i;
				break;
			}
		bad_last = -1;
		for (size_t i = 0; i < p; i++)
			if (last[i] != dh_uapi_pattern(size - p + i, seed)) {
				bad_last = (long)i;
				break;
			}
		/* A store through one mapping is seen through the other. */
		mid[p] = (uint8_t)~mid[p];
		shared_ok = whole[2 * p] == mid[p];
		kv_add(&kv, " mid_ok=%d last_ok=%d shared_ok=%d",
		       bad_mid < 0, bad_last < 0, shared_ok);
		if (bad_mid >= 0 || bad_last >= 0 || !shared_ok)
			reason = "pgoff_mismatch";
	}
	if (whole != MAP_FAILED)
		munmap(whole, size);
	if (mid != MAP_FAILED)
		munmap(mid, 2 * p);
	if (last != MAP_FAILED)
		munmap(last, p);
	if (reason)
		kv_add(&kv, " reason=%s", reason);
	send_report(test, &kv, reason ? DH_VERDICT_NOT_OK : DH_VERDICT_OK, NULL);
}

/* Requests beyond the buffer must be refused (dma_direct_mmap: -ENXIO). */
static void test_range(const char *test, size_t size)
{
	size_t p = page_size, n = size / p;
	const struct {
		size_t off, len;
	} cases[] = {
		{ n * p, p },		/* starts right after the buffer */
		{ (n - 1) * p, 2 * p },	/* runs one page past the end */
		{ 0, (n + 1) * p },	/* one page too long */
		{ 2 * p, n * p },	/* offset plus length too long */
	};
	struct kv kv = { .len = 0 };
	unsigned int i, refused = 0;
	char errnos[64] = "";
	int mapped = -1;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		void *m = mmap(NULL, cases[i].len, PROT_READ | PROT_WRITE,
			       MAP_SHARED, dev_fd, cases[i].off);
		size_t l = strlen(errnos);

		if (m == MAP_FAILED) {
			refused++;
			snprintf(errnos + l, sizeof(errnos) - l, "%s%d",
				 l ? "," : "", errno);
		} else {
			if (mapped < 0)
				mapped = i;
			snprintf(errnos + l, sizeof(errnos) - l, "%s0",
				 l ? "," : "");
			munmap(m, cases[i].len);
		}
	}
	kv_add(&kv, " cases=%u refused=%u errnos=%s", i, refused, errnos);
	if (mapped >= 0)
		kv_add(&kv, " mapped_case=%d reason=out_of_range_mapped",
		       mapped);
	send_report(test, &kv, mapped >= 0 ? DH_VERDICT_NOT_OK : DH_VERDICT_OK,
	       NULL);
}

/*
 * A buffer whose size is not a page multiple: a mapping of its
 * page-rounded size covers it and must be accepted (the DMA API maps whole
 * pages), one page more must not; the kernel's bytes are seen up to size.
 */
static void test_odd(const char *test, size_t size, int kmap, uint32_t seed)
{
	size_t p = page_size, pages = (size + p - 1) / p;
	const char *reason = NULL;
	struct kv kv = { .len = 0 };
	uint8_t *m, *big;
	long bad;
	int ret;

	m = mmap(NULL, pages * p, PROT_READ | PROT_WRITE, MAP_SHARED, dev_fd,
		 0);
	kv_add(&kv, " map_pages=%zu mmap_ok=%d", pages, m != MAP_FAILED);
	if (m == MAP_FAILED) {
		kv_add(&kv, " mmap_errno=%d can_mmap=%u", errno, can_mmap);
		if (can_mmap)
			reason = "mmap_refused";
	} else if (kmap) {
		ret = kpattern(DH_IOC_KFILL, 0, size, seed, NULL);
		bad = ret ? 0 : check(m, size, seed);
		kv_add(&kv, " user_sees_kernel=%d", !ret && bad < 0);
		if (ret || bad >= 0)
			reason = "user_kernel_mismatch";
	}
	if (m != MAP_FAILED)
		munmap(m, pages * p);
	big = mmap(NULL, (pages + 1) * p, PROT_READ | PROT_WRITE, MAP_SHARED,
		   dev_fd, 0);
	kv_add(&kv, " one_more_refused=%d", big == MAP_FAILED);
	if (big != MAP_FAILED) {
		munmap(big, (pages + 1) * p);
		if (!reason)
			reason = "out_of_range_mapped";
	} else {
		kv_add(&kv, " one_more_errno=%d", errno);
	}
	if (reason)
		kv_add(&kv, " reason=%s", reason);
	send_report(test, &kv, reason ? DH_VERDICT_NOT_OK : DH_VERDICT_OK, NULL);
}

static int buf_alloc(unsigned int kind, unsigned int attr, size_t size,
		 struct dh_ioc_alloc *a)
{
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	a->attr = attr;
	a->size = size;
	if (ioctl(dev_fd, DH_IOC_ALLOC, a)) {
		warnx("alloc kind %u attr %u: %s", kind, attr,
		      strerror(errno));
		return -errno;
	}
	return 0;
}

static void buf_free(void)
{
	if (ioctl(dev_fd, DH_IOC_FREE))
		warnx("free: %s", strerror(errno));
}

static void test_attr(unsigned int attr)
{
	size_t size = BUF_PAGES * page_size;
	struct dh_ioc_alloc a;
	char t_map[80], t_pgoff[80], t_range[80];
	struct kv none = { .len = 0 };
	uint32_t seed = 0x1000 + attr * 16;

	if (buf_alloc(DH_BUF_ATTRS, attr, size, &a)) {
		snprintf(a.slug, sizeof(a.slug), "attr%u", attr);
		a.ok = 0;
	}
	snprintf(t_map, sizeof(t_map), "%s_mmap", a.slug);
	snprintf(t_pgoff, sizeof(t_pgoff), "%s_pgoff", a.slug);
	snprintf(t_range, sizeof(t_range), "%s_out_of_range", a.slug);
	if (!a.ok) {
		/* A refused allocation is data, not a failure. */
		send_report(t_map, &none, DH_VERDICT_OK, NULL);
		send_report(t_pgoff, &none, DH_VERDICT_SKIP, "alloc_failed");
		send_report(t_range, &none, DH_VERDICT_SKIP, "alloc_failed");
	} else {
		if (test_map(t_map, size, a.kmap, seed))
			test_pgoff(t_pgoff, size, seed + 8);
		else
			send_report(t_pgoff, &none, DH_VERDICT_SKIP,
			       "mmap_refused");
		test_range(t_range, size);
		buf_free();
	}

	snprintf(t_map, sizeof(t_map), "%s_odd_size", a.slug);
	size = 3 * page_size + 1;
	if (buf_alloc(DH_BUF_ATTRS, attr, size, &a) || !a.ok) {
		send_report(t_map, &none, DH_VERDICT_OK, NULL);
		return;
	}
	test_odd(t_map, size, a.kmap, seed + 12);
	buf_free();
}

static void test_kind(unsigned int kind)
{
	size_t size = BUF_PAGES * page_size;
	struct dh_ioc_alloc a;
	char t_map[80], t_pgoff[80], t_range[80];
	struct kv none = { .len = 0 };
	uint32_t seed = 0x2000 + kind * 16;

	if (buf_alloc(kind, 0, size, &a)) {
		snprintf(a.slug, sizeof(a.slug), "kind%u", kind);
		a.ok = 0;
	}
	snprintf(t_map, sizeof(t_map), "%s_mmap", a.slug);
	snprintf(t_pgoff, sizeof(t_pgoff), "%s_pgoff", a.slug);
	snprintf(t_range, sizeof(t_range), "%s_out_of_range", a.slug);
	if (!a.ok) {
		send_report(t_map, &none, DH_VERDICT_OK, NULL);
		send_report(t_pgoff, &none, DH_VERDICT_SKIP, "alloc_failed");
		send_report(t_range, &none, DH_VERDICT_SKIP, "alloc_failed");
		return;
	}
	if (test_map(t_map, size, a.kmap, seed))
		test_pgoff(t_pgoff, size, seed + 8);
	else
		send_report(t_pgoff, &none, DH_VERDICT_SKIP, "mmap_refused");
	test_range(t_range, size);
	buf_free();
}

static int open_dev(void)
{
	int i;

	for (i = 0; i < OPEN_TRIES; i++) {
		dev_fd = open(DH_DEV_PATH, O_RDWR | O_CLOEXEC);
		if (dev_fd >= 0 || errno != ENOENT)
			break;
		usleep(100000);
	}
	return dev_fd;
}

int main(void)
{
	struct dh_ioc_info info;
	struct dh_ioc_start start;
	unsigned int i;

	if (open_dev() < 0) {
		warnx("cannot open %s: %s", DH_DEV_PATH, strerror(errno));
		return 1;
	}
	if (ioctl(dev_fd, DH_IOC_INFO, &info)) {
		warnx("DH_IOC_INFO: %s", strerror(errno));
		return 1;
	}
	if (info.version != DH_UAPI_VERSION) {
		/* Closing ends the suite: the module reports helper_closed. */
		warnx("module speaks version %u, helper %u", info.version,
		      DH_UAPI_VERSION);
		return 1;
	}
	page_size = info.page_size;
	can_mmap = info.can_mmap;
	device_dma = info.device_dma;
	memset(&start, 0, sizeof(start));
	start.plan = info.nattrs * TESTS_PER_ATTR + EXTRA_KINDS * TESTS_PER_KIND;
	if (ioctl(dev_fd, DH_IOC_START, &start)) {
		warnx("DH_IOC_START: %s", strerror(errno));
		return 1;
	}
	for (i = 0; i < info.nattrs; i++)
		test_attr(i);
	test_kind(DH_BUF_PAGES);
	test_kind(DH_BUF_NONCONTIG);
	if (ioctl(dev_fd, DH_IOC_DONE)) {
		warnx("DH_IOC_DONE: %s", strerror(errno));
		return 1;
	}
	close(dev_fd);
	return 0;
}
