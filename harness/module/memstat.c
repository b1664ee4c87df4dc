// SPDX-License-Identifier: GPL-2.0
/*
 * Snapshots of the memory counters a leak would move, for dma_lifetime
 * and dma_reload.
 *
 * Free memory comes from si_meminfo() and NR_FREE_CMA_PAGES; the rest is
 * only visible in procfs, which the module reads itself (the init mounted
 * /proc before loading it):
 *  - /proc/meminfo "VmallocUsed" (vmalloc_nr_pages() is not exported);
 *  - /proc/zoneinfo "count:" of every CPU's page list: pages freed by
 *    dma_free_attrs() first land on those per-CPU lists, which MemFree does
 *    not count, so free + pcp is what must come back;
 *  - /proc/vmallocinfo lines flagged "dma-coherent" (VM_DMA_COHERENT): the
 *    remaps that dma_common_{contiguous,pages}_remap() create for coherent
 *    buffers, which must all be gone once every buffer is freed;
 *  - the atomic pools' sizes (debugfs dma_pools/pool_size_*), which the
 *    init reads before each load (kernel_read() refuses debugfs attribute
 *    files) and passes as pool_bytes. A pool that ran low grows from a
 *    worker (kernel/dma/pool.c atomic_pool_work_fn()) by one more remap,
 *    which stays; whether the worker still finds it low depends on timing,
 *    so that growth must not read as a leak. Once every buffer is freed no
 *    pool is low, so the sizes read between the loads are settled.
 */
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmstat.h>

#include "harness.h"

#define DH_READ_CHUNK	2048
#define DH_LINE_MAX	512

struct dh_reader {
	struct dh_memsnap *snap;
	void (*line)(struct dh_reader *r, char *line);
	char *buf;		/* DH_READ_CHUNK + DH_LINE_MAX bytes */
};

static void dh_meminfo_line(struct dh_reader *r, char *line)
{
	unsigned long long kb;

	if (sscanf(line, "VmallocUsed: %llu kB", &kb) == 1)
		r->snap->vmalloc_used_kb = kb;
	else if (sscanf(line, "Slab: %llu kB", &kb) == 1)
		r->snap->slab_kb = kb;
	else if (sscanf(line, "CmaTotal: %llu kB", &kb) == 1)
		r->snap->cma_total_kb = kb;
}

static void dh_zoneinfo_line(struct dh_reader *r, char *line)
{
	unsigned long long n;

	line = skip_spaces(line);
	if (sscanf(line, "count: %llu", &n) == 1)
		r->snap->pcp_pages += n;
}

/* "0x...-0x...  SIZE CALLER ... dma-coherent": the area's bytes, guard included. */
static void dh_vmallocinfo_line(struct dh_reader *r, char *line)
{
	unsigned long long bytes;
	char *size, *end;

	if (!strstr(line, " dma-coherent"))
		return;
	r->snap->dma_remaps++;
	size = strchr(line, ' ');
	if (!size)
		return;
	size = skip_spaces(size);
	end = strchr(size, ' ');
	if (end)
		*end = '\0';
	if (!kstrtoull(size, 10, &bytes))
		r->snap->remap_bytes += bytes;
}

/* Calls r->line for every complete line of path; false if unreadable. */
static bool dh_read_lines(struct dh_reader *r, const char *path)
{
	struct file *f;
	loff_t pos = 0;
	size_t have = 0;
	ssize_t n;

	f = filp_open(path, O_RDONLY, 0);
	if (IS_ERR(f))
		return false;
	for (;;) {
		char *start, *nl;

		n = kernel_read(f, r->buf + have, DH_READ_CHUNK, &pos);
		if (n <= 0)
			break;
		have += n;
		r->buf[have] = '\0';
		start = r->buf;
		while ((nl = strchr(start, '\n'))) {
			*nl = '\0';
			r->line(r, start);
			start = nl + 1;
		}
		have -= start - r->buf;
		/* A line longer than the buffer is dropped, not split. */
		if (have > DH_LINE_MAX)
			have = 0;
		memmove(r->buf, start, have);
	}
	filp_close(f, NULL);
	return n == 0;
}

int dh_memsnap_take(struct dh_memsnap *snap)
{
	struct dh_reader r = { .snap = snap };
	struct sysinfo si;

	memset(snap, 0, sizeof(*snap));
	r.buf = kmalloc(DH_READ_CHUNK + DH_LINE_MAX + 1, GFP_KERNEL);
	if (!r.buf)
		return -ENOMEM;

	r.line = dh_zoneinfo_line;
	snap->have_pcp = dh_read_lines(&r, "/proc/zoneinfo");
	r.line = dh_vmallocinfo_line;
	snap->have_remaps = dh_read_lines(&r, "/proc/vmallocinfo");
	r.line = dh_meminfo_line;
	snap->have_meminfo = dh_read_lines(&r, "/proc/meminfo");
	kfree(r.buf);

	si_meminfo(&si);
	snap->free_kb = (u64)si.freeram * si.mem_unit >> 10;
	snap->total_kb = (u64)si.totalram * si.mem_unit >> 10;
#ifdef CONFIG_CMA
	snap->cma_free_kb = global_zone_page_state(NR_FREE_CMA_PAGES) <<
			    (PAGE_SHIFT - 10);
#endif
	return 0;
}

unsigned long long dh_start_pool_bytes;

/* A snapshot taken as this load starts also knows the pools' sizes. */
void dh_memsnap_at_start(struct dh_memsnap *snap)
{
	snap->pool_bytes = dh_start_pool_bytes;
}
