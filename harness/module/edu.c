// SPDX-License-Identifier: GPL-2.0
/*
 * Register access and DMA transfers for QEMU's edu device.
 *
 * Two properties of QEMU 7.2's edu shape this file:
 *  - The device-side address of a transfer must lie in its 4 KiB buffer at
 *    0x40000. If it does not, edu_check_range() calls hw_error(), which
 *    aborts the whole QEMU process (7.2 also rejects a transfer that ends
 *    on the buffer's last byte, see EDU_BUF_USABLE). Every transfer is
 *    therefore checked here, before the device sees it.
 *  - The RAM-side address is ANDed with the device's dma_mask property
 *    (edu_clamp_addr()); when that changes the address, QEMU prints
 *    "EDU: clamping DMA 0x... to 0x...!" on its own stdout (so on the
 *    console of a -nographic guest) and the transfer silently goes to the
 *    clamped address. A handle outside the mask is thus refused here too,
 *    since the data would land somewhere else and the run would only show a
 *    mismatch.
 * Completion comes by interrupt when one could be set up (MSI, else INTx:
 * the command asks edu to raise DMA_IRQ, the handler acknowledges it at
 * 0x64), with polling of the RUN bit as the fallback: each transfer records
 * which of the two ended it (enum edu_completion).
 */
#include <linux/delay.h>
#include <linux/errno.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/kernel.h>
#include <linux/pci.h>

#include "edu.h"

static irqreturn_t edu_irq(int irq, void *data)
{
	struct edu_dev *edu = data;
	u32 status = readl(edu->mmio + EDU_REG_IRQ_STATUS);

	if (!status)
		return IRQ_NONE;
	writel(status, edu->mmio + EDU_REG_IRQ_ACK);
	if (status & EDU_IRQ_DMA) {
		edu->irqs++;
		complete(&edu->done);
	}
	return IRQ_HANDLED;
}

/*
 * One vector, MSI preferred (types: PCI_IRQ_* flags, 0 for none). Both the
 * vectors and the handler are managed (pcim_enable_device() and devm): they
 * go away with the driver binding. Without an IRQ every transfer is polled.
 */
void edu_setup_irq(struct edu_dev *edu, struct pci_dev *pdev,
		   unsigned int types)
{
	int ret;

	init_completion(&edu->done);
	edu->irq = 0;
	edu->irq_kind = "none";
	edu->irq_errno = 0;
	/* Nothing may be pending from a previous binding. */
	writel(readl(edu->mmio + EDU_REG_IRQ_STATUS),
	       edu->mmio + EDU_REG_IRQ_ACK);

	if (!types)
		return;
	ret = pci_alloc_irq_vectors(pdev, 1, 1, types);
	if (ret < 0) {
		edu->irq_errno = -ret;
		return;
	}
	ret = pci_irq_vector(pdev, 0);
	if (ret < 0) {
		edu->irq_errno = -ret;
		return;
	}
	edu->irq = ret;
	ret = devm_request_irq(&pdev->dev, edu->irq, edu_irq, IRQF_SHARED,
			       "dma_harness", edu);
	if (ret) {
		edu->irq = 0;
		edu->irq_errno = -ret;
		return;
	}
	edu->irq_kind = pdev->msi_enabled ? "msi" :
			pdev->msix_enabled ? "msix" : "intx";
}

const char *edu_failure_reason(int ret)
{
	if (ret == -ERANGE)
		return "outside_mask";
	if (ret == -ETIMEDOUT)
		return "dma_timeout";
	return "dma_error";
}

const char *edu_completion_name(enum edu_completion c)
{
	switch (c) {
	case EDU_DONE_IRQ:
		return "irq";
	case EDU_DONE_POLL:
		return "poll";
	default:
		return "none";
	}
}

int edu_check(struct edu_dev *edu, u32 *id)
{
	u32 probe = 0x5a5aa5a5;

	*id = readl(edu->mmio + EDU_REG_ID);
	if ((*id & 0xff) != EDU_ID_MAGIC)
		return -ENODEV;
	/* The liveness register returns the complement of what was written. */
	writel(probe, edu->mmio + EDU_REG_LIVENESS);
	if (readl(edu->mmio + EDU_REG_LIVENESS) != ~probe)
		return -EIO;
	return 0;
}

/*
 * edu takes 4- or 8-byte accesses at 0x80..0x98 and a 4-byte write replaces
 * the whole 64-bit register, so a 32-bit kernel can only program addresses
 * below 4 GiB.
 */
static int edu_write_reg64(struct edu_dev *edu, unsigned int reg, u64 val)
{
#ifdef CONFIG_64BIT
	writeq(val, edu->mmio + reg);
#else
	if (upper_32_bits(val))
		return -ERANGE;
	writel(lower_32_bits(val), edu->mmio + reg);
#endif
	return 0;
}

static bool edu_busy(struct edu_dev *edu)
{
	return readl(edu->mmio + EDU_REG_DMA_CMD) & EDU_DMA_RUN;
}

static int edu_wait_idle(struct edu_dev *edu)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(EDU_DMA_TIMEOUT_MS);

	while (edu_busy(edu)) {
		if (time_after(jiffies, deadline))
			return edu_busy(edu) ? -ETIMEDOUT : 0;
		usleep_range(1000, 2000);
	}
	return 0;
}

static int edu_transfer(struct edu_dev *edu, u64 src, u64 dst, u32 len,
			u32 cmd, u64 *ns)
{
	u64 start;
	int ret;

	ret = edu_wait_idle(edu);
	if (ret)
		return ret;
	ret = edu_write_reg64(edu, EDU_REG_DMA_SRC, src);
	if (!ret)
		ret = edu_write_reg64(edu, EDU_REG_DMA_DST, dst);
	if (!ret)
		ret = edu_write_reg64(edu, EDU_REG_DMA_CNT, len);
	if (ret)
		return ret;

	/*
	 * writel() orders the CPU's earlier stores to the coherent buffer
	 * before the doorbell, and readl() in edu_busy() orders the device's
	 * stores before our later loads: no explicit barrier is needed.
	 */
	edu->last = EDU_DONE_NONE;
	if (edu->irq) {
		reinit_completion(&edu->done);
		cmd |= EDU_DMA_IRQ;
	}
	start = ktime_get_ns();
	writel(cmd | EDU_DMA_RUN, edu->mmio + EDU_REG_DMA_CMD);
	if (edu->irq &&
	    wait_for_completion_timeout(&edu->done,
					msecs_to_jiffies(EDU_IRQ_WAIT_MS)) &&
	    !edu_busy(edu)) {
		*ns = ktime_get_ns() - start;
		edu->last = EDU_DONE_IRQ;
		return 0;
	}
	ret = edu_wait_idle(edu);
	*ns = ktime_get_ns() - start;
	if (!ret)
		edu->last = EDU_DONE_POLL;
	return ret;
}

static int edu_check_xfer(struct edu_dev *edu, dma_addr_t ram, u32 edu_off,
			  u32 len)
{
	if (!len || edu_off >= EDU_BUF_USABLE ||
	    len > EDU_BUF_USABLE - edu_off)
		return -EINVAL;
	if ((u64)ram + len - 1 < (u64)ram ||
	    (u64)ram + len - 1 > edu->dma_mask)
		return -ERANGE;
	return 0;
}

int edu_dma_to_device(struct edu_dev *edu, dma_addr_t src, u32 edu_off,
		      u32 len, u64 *ns)
{
	int ret = edu_check_xfer(edu, src, edu_off, len);

	if (ret)
		return ret;
	return edu_transfer(edu, src, EDU_BUF_ADDR + edu_off, len, 0, ns);
}

int edu_dma_to_ram(struct edu_dev *edu, u32 edu_off, dma_addr_t dst,
		   u32 len, u64 *ns)
{
	int ret = edu_check_xfer(edu, dst, edu_off, len);

	if (ret)
		return ret;
	return edu_transfer(edu, EDU_BUF_ADDR + edu_off, dst, len,
			    EDU_DMA_TO_RAM, ns);
}
