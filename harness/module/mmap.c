// SPDX-License-Identifier: GPL-2.0
/*
 * Suite dma_mmap: dma_mmap_attrs() (and dma_mmap_pages(),
 * dma_mmap_noncontiguous()) give user space a view of a DMA buffer. Only a
 * process can check that view, so this suite is driven by the static
 * helper /bin/dma-harness-helper through the misc device /dev/dma_harness
 * (ioctls in dh_uapi.h), after the suites of the module load have been
 * printed. The module still prints every KTAP line: the helper says what it
 * planned (DH_IOC_START), asks for buffers, kernel-side fills and checks and
 * edu transfers, and hands each result over (DH_IOC_REPORT); the module
 * adds the buffer's own keys and prints it.
 *
 * The suite always ends, whatever the helper does: DH_IOC_DONE, the helper
 * closing the device (also when it dies), a timeout, or the driver going
 * away (rmmod) all end it, as "not ok ... # helper_failed" when it never
 * started. harness/PROTOCOL.md, "dma_mmap", is the contract.
 */
#include <linux/atomic.h>
#include <linux/ctype.h>
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/kernel.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/scatterlist.h>
#include <linux/sizes.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

#include "dh_uapi.h"
#include "harness.h"

#define DH_MM_NAME		"dma_mmap"
#define DH_MM_MAX_SIZE		SZ_4M
/* From the end of the module load; the helper needs a few seconds. */
#define DH_MM_TIMEOUT_MS	120000

enum dh_mm_state {
	DH_MM_IDLE,		/* waiting for the helper */
	DH_MM_RUNNING,		/* header printed, results coming */
	DH_MM_DONE,		/* result line printed */
};

struct dh_mm_buf {
	bool active;
	bool leak;		/* edu timed out on it: never free */
	u32 kind;
	const struct dh_attr *a;
	size_t size;
	void *cookie;		/* what dma_alloc_attrs() returned */
	void *cpu;		/* kernel view, NULL without one */
	dma_addr_t dma;
	struct page *page;
	struct sg_table *sgt;
};

/* The keys of the last allocation, printed with every result. */
struct dh_mm_last {
	bool valid;
	u32 kind;
	char name[48];
	size_t size;
	bool ok;
	dma_addr_t dma;
	const char *mapping;
	bool prot_valid;
	u64 prot;	/* vm_page_prot of the last user mapping */
};

static struct {
	struct mutex lock;	/* everything below, and KTAP printing */
	struct dh_ctx *ctx;
	unsigned int num;	/* number in the top-level plan */
	enum dh_mm_state state;
	struct ktap_suite s;
	struct dh_mm_buf buf;
	struct dh_mm_last last;
	atomic_t maps;		/* user mappings of buf alive */
	bool opened;
	bool registered;
	struct delayed_work timeout;
} dh_mm = {
	.lock = __MUTEX_INITIALIZER(dh_mm.lock),
};

static const char * const dh_mm_apis[] = {
	[DH_BUF_ATTRS] = "dma_alloc_attrs",
	[DH_BUF_PAGES] = "dma_alloc_pages",
	[DH_BUF_NONCONTIG] = "dma_alloc_noncontiguous",
};

/* Ends the suite; reason says why when the helper did not end it. */
static void dh_mm_finish(const char *reason)
{
	lockdep_assert_held(&dh_mm.lock);
	switch (dh_mm.state) {
	case DH_MM_IDLE:
		ktap_suite_not_run(dh_mm.num, DH_MM_NAME, reason);
		break;
	case DH_MM_RUNNING:
		if (reason)
			pr_info("# %s: reason=%s\n", DH_MM_NAME, reason);
		if (reason && dh_mm.s.next == dh_mm.s.plan + 1)
			dh_mm.s.failed = true;
		ktap_suite_end(&dh_mm.s);
		break;
	default:
		return;
	}
	dh_mm.state = DH_MM_DONE;
}

static void dh_mm_timeout(struct work_struct *work)
{
	mutex_lock(&dh_mm.lock);
	dh_mm_finish("helper_timeout");
	mutex_unlock(&dh_mm.lock);
}

static void dh_mm_free(void)
{
	struct device *dev = dh_mm.ctx->dev;
	struct dh_mm_buf *b = &dh_mm.buf;

	if (!b->active)
		return;
	b->active = false;
	if (b->leak)
		return;
	switch (b->kind) {
	case DH_BUF_ATTRS:
		dma_free_attrs(dev, b->size, b->cookie, b->dma, b->a->attrs);
		break;
	case DH_BUF_PAGES:
		dma_free_pages(dev, b->size, b->page, b->dma,
			       DMA_BIDIRECTIONAL);
		break;
	default:
		if (b->cpu)
			dma_vunmap_noncontiguous(dev, b->cpu);
		dma_free_noncontiguous(dev, b->size, b->sgt,
				       DMA_BIDIRECTIONAL);
		break;
	}
}

static int dh_mm_alloc(struct dh_ioc_alloc *req)
{
	struct device *dev = dh_mm.ctx->dev;
	struct dh_mm_buf *b = &dh_mm.buf;
	struct dh_mm_last *l = &dh_mm.last;

	if (b->active)
		return -EBUSY;
	/* A refused request must not report the previous buffer's keys. */
	l->valid = false;
	l->prot_valid = false;
	if (req->kind > DH_BUF_NONCONTIG ||
	    (req->kind == DH_BUF_ATTRS && req->attr >= dh_nattrs) ||
	    !req->size || req->size > DH_MM_MAX_SIZE)
		return -EINVAL;

	memset(b, 0, sizeof(*b));
	b->kind = req->kind;
	b->size = req->size;
	b->a = &dh_attrs[req->kind == DH_BUF_ATTRS ? req->attr : 0];
	switch (b->kind) {
	case DH_BUF_ATTRS:
		b->cookie = dma_alloc_attrs(dev, b->size, &b->dma, GFP_KERNEL,
					    b->a->attrs);
		b->active = b->cookie;
		if (!(b->a->attrs & DMA_ATTR_NO_KERNEL_MAPPING))
			b->cpu = b->cookie;
		strscpy(req->name, b->a->name, sizeof(req->name));
		strscpy(req->slug, b->a->slug, sizeof(req->slug));
		break;
	case DH_BUF_PAGES:
		b->page = dma_alloc_pages(dev, b->size, &b->dma,
					  DMA_BIDIRECTIONAL, GFP_KERNEL);
		b->active = b->page;
		if (b->page)
			b->cpu = page_address(b->page);
		strscpy(req->name, "none", sizeof(req->name));
		strscpy(req->slug, "pages", sizeof(req->slug));
		break;
	default:
		b->sgt = dma_alloc_noncontiguous(dev, b->size,
						 DMA_BIDIRECTIONAL, GFP_KERNEL,
						 0);
		b->active = b->sgt;
		if (b->sgt) {
			b->dma = sg_dma_address(b->sgt->sgl);
			b->cpu = dma_vmap_noncontiguous(dev, b->size, b->sgt);
		}
		strscpy(req->name, "none", sizeof(req->name));
		strscpy(req->slug, "noncontiguous", sizeof(req->slug));
		break;
	}
	req->ok = b->active;
	req->kmap = b->active && b->cpu;
	req->dma = b->active ? b->dma : 0;

	l->valid = true;
	l->kind = b->kind;
	strscpy(l->name, req->name, sizeof(l->name));
	l->size = b->size;
	l->ok = b->active;
	l->dma = req->dma;
	l->mapping = b->cpu ? dh_kind_name(dh_addr_kind(b->cpu)) : "cookie";
	return 0;
}

/* Ownership of non-coherent memory moves with explicit syncs. */
static void dh_mm_sync(bool for_device)
{
	struct device *dev = dh_mm.ctx->dev;
	struct dh_mm_buf *b = &dh_mm.buf;

	if (b->kind == DH_BUF_PAGES) {
		if (for_device)
			dma_sync_single_for_device(dev, b->dma, b->size,
						   DMA_BIDIRECTIONAL);
		else
			dma_sync_single_for_cpu(dev, b->dma, b->size,
						DMA_BIDIRECTIONAL);
	} else if (b->kind == DH_BUF_NONCONTIG) {
		if (for_device) {
			if (b->cpu)
				flush_kernel_vmap_range(b->cpu, b->size);
			dma_sync_sgtable_for_device(dev, b->sgt,
						    DMA_BIDIRECTIONAL);
		} else {
			dma_sync_sgtable_for_cpu(dev, b->sgt,
						 DMA_BIDIRECTIONAL);
			if (b->cpu)
				invalidate_kernel_vmap_range(b->cpu, b->size);
		}
	}
}

static int dh_mm_pattern(struct dh_ioc_pattern *p, bool check)
{
	struct dh_mm_buf *b = &dh_mm.buf;
	u8 *cpu = b->cpu;
	u64 i;

	if (!b->active)
		return -ENOENT;
	if (!cpu)
		return -ENODATA;
	if (p->offset > b->size || p->len > b->size - p->offset)
		return -EINVAL;
	p->bad = -1;
	/*
	 * A vmap of the pages is an alias of the user mapping: what the
	 * kernel writes through it must reach the pages, and it must not
	 * read stale lines (dma-api.rst, dma_vmap_noncontiguous()).
	 */
	if (check && b->kind == DH_BUF_NONCONTIG)
		invalidate_kernel_vmap_range(cpu, b->size);
	for (i = 0; i < p->len; i++) {
		u8 want = dh_uapi_pattern(i, p->seed);

		if (!check) {
			cpu[p->offset + i] = want;
		} else if (cpu[p->offset + i] != want) {
			p->bad = i;
			break;
		}
	}
	if (!check && b->kind == DH_BUF_NONCONTIG)
		flush_kernel_vmap_range(cpu, b->size);
	return 0;
}

static int dh_mm_edu(struct dh_ioc_edu *x)
{
	struct edu_dev *edu = &dh_mm.ctx->edu;
	struct dh_mm_buf *b = &dh_mm.buf;
	u64 ns = 0;
	int ret;

	if (!b->active)
		return -ENOENT;
	/* The noncoherent variant's platform device does no DMA. */
	if (!dh_mm.ctx->pdev)
		return -ENODEV;
	if (!x->len || x->len > EDU_XFER_LEN || x->offset > b->size ||
	    x->len > b->size - x->offset)
		return -EINVAL;
	dh_mm_sync(true);
	if (x->to_ram)
		ret = edu_dma_to_ram(edu, 0, b->dma + x->offset, x->len, &ns);
	else
		ret = edu_dma_to_device(edu, b->dma + x->offset, 0, x->len,
					&ns);
	dh_mm_sync(false);
	if (ret == -ETIMEDOUT)
		b->leak = true;
	x->err = ret;
	x->completion = edu->last;
	x->ns = ns;
	return 0;
}

static bool dh_mm_word_ok(const char *s, bool kv)
{
	if (!*s)
		return !kv;
	for (; *s; s++) {
		if (isalnum(*s) || *s == '_')
			continue;
		if (kv && strchr("=+.,:/- ", *s))
			continue;
		return false;
	}
	return true;
}

static int dh_mm_report(struct dh_ioc_report *r)
{
	struct dh_mm_last *l = &dh_mm.last;
	struct ktap_diag d;

	r->test[sizeof(r->test) - 1] = '\0';
	r->kv[sizeof(r->kv) - 1] = '\0';
	r->skip[sizeof(r->skip) - 1] = '\0';
	if (!r->test[0] || !dh_mm_word_ok(r->test, false) ||
	    !dh_mm_word_ok(r->kv, true) || !dh_mm_word_ok(r->skip, false) ||
	    r->verdict > DH_VERDICT_SKIP)
		return -EINVAL;

	ktap_diag_start(&d, &dh_mm.s, r->test);
	if (l->valid) {
		ktap_diag_str(&d, "api", dh_mm_apis[l->kind]);
		if (l->kind == DH_BUF_ATTRS)
			ktap_diag_str(&d, "attrs", l->name);
		ktap_diag_u64(&d, "size", l->size);
		ktap_diag_str(&d, "gfp", "GFP_KERNEL");
		ktap_diag_bool(&d, "ok", l->ok);
		if (l->ok) {
			ktap_diag_hex(&d, "dma", l->dma);
			ktap_diag_str(&d, "mapping", l->mapping);
		}
		if (l->prot_valid)
			ktap_diag_hex(&d, "vm_page_prot", l->prot);
	}
	if (r->kv[0])
		d.len += scnprintf(d.buf + d.len, sizeof(d.buf) - d.len,
				   " %s", r->kv);
	if (r->verdict == DH_VERDICT_NOT_OK && !strstr(r->kv, "reason="))
		ktap_diag_str(&d, "reason", "unspecified");
	ktap_diag_emit(&d);
	if (r->verdict == DH_VERDICT_SKIP)
		ktap_skip(&dh_mm.s, r->test, r->skip[0] ? r->skip : "helper");
	else
		ktap_result(&dh_mm.s, r->test, r->verdict == DH_VERDICT_OK);
	return 0;
}

static long dh_mm_ioctl_locked(unsigned int cmd, void *arg)
{
	struct dh_ioc_info *info = arg;
	struct dh_ioc_start *start = arg;

	if (cmd == DH_IOC_INFO) {
		info->version = DH_UAPI_VERSION;
		info->nattrs = dh_nattrs;
		info->page_size = PAGE_SIZE;
		info->can_mmap = dma_can_mmap(dh_mm.ctx->dev);
		info->device_dma = !!dh_mm.ctx->pdev;
		return 0;
	}
	if (cmd == DH_IOC_START) {
		if (dh_mm.state != DH_MM_IDLE)
			return -EPIPE;
		ktap_suite_begin(&dh_mm.s, DH_MM_NAME, dh_mm.num, start->plan);
		dh_mm.state = DH_MM_RUNNING;
		return 0;
	}
	if (dh_mm.state != DH_MM_RUNNING)
		return -EPIPE;

	switch (cmd) {
	case DH_IOC_ALLOC:
		return dh_mm_alloc(arg);
	case DH_IOC_FREE:
		if (!dh_mm.buf.active)
			return -ENOENT;
		if (atomic_read(&dh_mm.maps))
			return -EBUSY;
		dh_mm_free();
		return 0;
	case DH_IOC_KFILL:
		return dh_mm_pattern(arg, false);
	case DH_IOC_KCHECK:
		return dh_mm_pattern(arg, true);
	case DH_IOC_EDU:
		return dh_mm_edu(arg);
	case DH_IOC_REPORT:
		return dh_mm_report(arg);
	case DH_IOC_DONE:
		dh_mm_finish(NULL);
		return 0;
	default:
		return -ENOTTY;
	}
}

/* User memory is copied outside the lock, which mmap() takes too. */
static long dh_mm_ioctl(struct file *file, unsigned int cmd,
			unsigned long arg)
{
	union {
		struct dh_ioc_info info;
		struct dh_ioc_start start;
		struct dh_ioc_alloc alloc;
		struct dh_ioc_pattern pattern;
		struct dh_ioc_edu edu;
		struct dh_ioc_report report;
	} *u;
	void __user *uarg = (void __user *)arg;
	size_t len = _IOC_SIZE(cmd);
	long ret;

	if (_IOC_TYPE(cmd) != 'D' || len > sizeof(*u))
		return -ENOTTY;
	u = kzalloc(sizeof(*u), GFP_KERNEL);
	if (!u)
		return -ENOMEM;
	if ((_IOC_DIR(cmd) & _IOC_WRITE) && copy_from_user(u, uarg, len)) {
		ret = -EFAULT;
		goto out;
	}
	mutex_lock(&dh_mm.lock);
	ret = dh_mm_ioctl_locked(cmd, u);
	mutex_unlock(&dh_mm.lock);
	if (!ret && (_IOC_DIR(cmd) & _IOC_READ) && copy_to_user(uarg, u, len))
		ret = -EFAULT;
out:
	kfree(u);
	return ret;
}

static void dh_vm_open(struct vm_area_struct *vma)
{
	atomic_inc(&dh_mm.maps);
}

static void dh_vm_close(struct vm_area_struct *vma)
{
	atomic_dec(&dh_mm.maps);
}

static const struct vm_operations_struct dh_vm_ops = {
	.open = dh_vm_open,
	.close = dh_vm_close,
};

/*
 * The request goes to the DMA API as it is, offset (vm_pgoff) and length
 * included: refusing out-of-range requests is the API's job, and what it
 * does with them is what the suite checks.
 */
static int dh_mm_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct dh_mm_buf *b = &dh_mm.buf;
	struct device *dev;
	int ret;

	mutex_lock(&dh_mm.lock);
	dev = dh_mm.ctx->dev;
	if (!b->active) {
		ret = -ENOENT;
	} else if (b->kind == DH_BUF_ATTRS) {
		ret = dma_mmap_attrs(dev, vma, b->cookie, b->dma, b->size,
				     b->a->attrs);
	} else if (b->kind == DH_BUF_PAGES) {
		ret = dma_mmap_pages(dev, vma, b->size, b->page);
	} else {
		ret = dma_mmap_noncontiguous(dev, vma, b->size, b->sgt);
	}
	if (!ret) {
		vma->vm_ops = &dh_vm_ops;
		atomic_inc(&dh_mm.maps);
		/*
		 * dma_mmap_attrs() set the memory type through dma_pgprot():
		 * the measurement DMA_ATTR_WRITE_COMBINE is judged on.
		 */
		dh_mm.last.prot = (u64)pgprot_val(vma->vm_page_prot);
		dh_mm.last.prot_valid = true;
	}
	mutex_unlock(&dh_mm.lock);
	return ret;
}

static int dh_mm_open(struct inode *inode, struct file *file)
{
	int ret = 0;

	mutex_lock(&dh_mm.lock);
	if (dh_mm.opened || !dh_mm.ctx)
		ret = -EBUSY;
	else
		dh_mm.opened = true;
	mutex_unlock(&dh_mm.lock);
	return ret;
}

/* Every mapping holds the file: by now none is left. */
static int dh_mm_release(struct inode *inode, struct file *file)
{
	mutex_lock(&dh_mm.lock);
	dh_mm_free();
	dh_mm_finish("helper_closed");
	dh_mm.opened = false;
	mutex_unlock(&dh_mm.lock);
	return 0;
}

static const struct file_operations dh_mm_fops = {
	.owner = THIS_MODULE,
	.open = dh_mm_open,
	.release = dh_mm_release,
	.unlocked_ioctl = dh_mm_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = dh_mm_mmap,
	.llseek = noop_llseek,
};

static struct miscdevice dh_mm_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "dma_harness",
	.fops = &dh_mm_fops,
	.mode = 0600,
};

/*
 * Called at the end of the module load, when the earlier suites are
 * printed: the suite now waits for the helper. Returns misc_register()'s
 * result; on failure the suite has already ended.
 */
int dh_mmap_setup(struct dh_ctx *ctx, unsigned int num)
{
	int ret;

	mutex_lock(&dh_mm.lock);
	dh_mm.ctx = ctx;
	dh_mm.num = num;
	dh_mm.state = DH_MM_IDLE;
	atomic_set(&dh_mm.maps, 0);
	INIT_DELAYED_WORK(&dh_mm.timeout, dh_mm_timeout);
	ret = misc_register(&dh_mm_misc);
	if (ret) {
		pr_info("# %s: misc_errno=%d\n", DH_MM_NAME, -ret);
		dh_mm_finish("misc_register_failed");
	} else {
		dh_mm.registered = true;
		schedule_delayed_work(&dh_mm.timeout,
				      msecs_to_jiffies(DH_MM_TIMEOUT_MS));
	}
	mutex_unlock(&dh_mm.lock);
	return ret;
}

/* The driver goes away: end the suite if the helper never did. */
void dh_mmap_teardown(void)
{
	if (!dh_mm.ctx)
		return;
	cancel_delayed_work_sync(&dh_mm.timeout);
	if (dh_mm.registered)
		misc_deregister(&dh_mm_misc);
	mutex_lock(&dh_mm.lock);
	dh_mm_finish("helper_failed");
	dh_mm_free();
	dh_mm.registered = false;
	dh_mm.ctx = NULL;
	mutex_unlock(&dh_mm.lock);
}

/* For dma_reload: the device name must be free again after an unload. */
int dh_mmap_reregister(void)
{
	int ret = misc_register(&dh_mm_misc);

	if (!ret)
		misc_deregister(&dh_mm_misc);
	return ret;
}
