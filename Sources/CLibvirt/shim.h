#ifndef DMA_HARNESS_CLIBVIRT_SHIM_H
#define DMA_HARNESS_CLIBVIRT_SHIM_H

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#endif
