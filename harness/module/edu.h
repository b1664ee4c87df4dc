/* SPDX-License-Identifier: GPL-2.0 */
/*
 * QEMU's "edu" educational PCI device (1234:11e8), see QEMU's
 * docs/specs/edu.rst and hw/misc/edu.c. Only its identification register
 * and its DMA engine are used: the engine copies between guest memory and a
 * 4 KiB buffer inside the device, one transfer at a time.
 */
#ifndef DMA_HARNESS_EDU_H
#define DMA_HARNESS_EDU_H

#include <linux/completion.h>
#include <linux/types.h>

#define EDU_VENDOR_ID		0x1234
#define EDU_DEVICE_ID		0x11e8

#define EDU_REG_ID		0x00
#define EDU_REG_LIVENESS	0x04
#define EDU_REG_IRQ_STATUS	0x24
#define EDU_REG_IRQ_RAISE	0x60
#define EDU_REG_IRQ_ACK		0x64
#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_CNT		0x90
#define EDU_REG_DMA_CMD		0x98

#define EDU_ID_MAGIC		0xed	/* low byte of the ID register */

#define EDU_DMA_RUN		0x1
#define EDU_DMA_TO_RAM		0x2	/* direction bit: device buffer -> RAM */
#define EDU_DMA_IRQ		0x4	/* raise DMA_IRQ when the transfer ends */

#define EDU_IRQ_DMA		0x100	/* interrupt status bit of a finished DMA */

/* The device-side window of the DMA engine. */
#define EDU_BUF_ADDR		0x40000
#define EDU_BUF_SIZE		4096

/*
 * Up to QEMU 7.2 (Debian 12's), edu_check_range() wants the transfer's end
 * strictly inside the buffer (QEMU issue 1254, fixed in 8.0), so a transfer
 * touching the buffer's last byte aborts QEMU even though it is in range.
 * The usable window is one byte short; the suites move 4088 bytes, the
 * largest multiple of 8 that fits.
 */
#define EDU_BUF_USABLE		(EDU_BUF_SIZE - 1)
#define EDU_XFER_LEN		(EDU_BUF_SIZE - 8)

/*
 * edu completes a transfer 100 ms of QEMU virtual time after it starts;
 * under TCG that is about 100 ms of wall time too. A generous bound keeps a
 * slow host from reporting a false timeout while never hanging the suite.
 */
#define EDU_DMA_TIMEOUT_MS	3000

/*
 * How long a transfer waits for edu's interrupt before it falls back to
 * polling the RUN bit: ten times edu's fixed 100 ms.
 */
#define EDU_IRQ_WAIT_MS		1000

enum edu_completion {
	EDU_DONE_NONE,		/* no transfer finished yet */
	EDU_DONE_IRQ,		/* the DMA interrupt arrived */
	EDU_DONE_POLL,		/* RUN cleared, but no interrupt came */
};

struct pci_dev;

struct edu_dev {
	void __iomem *mmio;
	u64 dma_mask;		/* the mask the harness told us edu has */
	int irq;		/* Linux IRQ number, 0 when polling only */
	const char *irq_kind;	/* "msi", "intx" or "none" */
	int irq_errno;		/* why there is no IRQ, when there is none */
	struct completion done;
	enum edu_completion last;	/* how the last transfer ended */
	unsigned int irqs;	/* DMA interrupts seen */
};

int edu_check(struct edu_dev *edu, u32 *id);
void edu_setup_irq(struct edu_dev *edu, struct pci_dev *pdev,
		   unsigned int types);
const char *edu_completion_name(enum edu_completion c);
/* The KTAP reason for a failed transfer: outside_mask, dma_timeout or dma_error. */
const char *edu_failure_reason(int ret);
int edu_dma_to_device(struct edu_dev *edu, dma_addr_t src, u32 edu_off,
		      u32 len, u64 *ns);
int edu_dma_to_ram(struct edu_dev *edu, u32 edu_off, dma_addr_t dst,
		   u32 len, u64 *ns);

#endif /* DMA_HARNESS_EDU_H */
