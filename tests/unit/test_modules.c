// SPDX-License-Identifier: MIT
// silo-init's choice of modules: drivers of PCI and virtio devices only when such a device
// is present, everything else always.
#include <stddef.h>

#include "modules.h"
#include "test.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

int main(void)
{
	// qemu's i440fx with virtio disk and network: no AHCI controller.
	const char *const devs[] = {
		"pci:v00008086d00001237sv00001AF4sd00001100bc06sc00i00",
		"pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00",
		"virtio:d00000002v00001AF4",
		"virtio:d00000001v00001AF4",
	};
	const char *const ahci[] = { "pci:v*d*sv*sd*bc01sc06i01*", "pci:v00008086d00002922sv*sd*bc*sc*i*" };
	const char *const vblk[] = { "virtio:d00000002v*" };
	const char *const vscsi[] = { "virtio:d00000008v*" };
	const char *const sd[] = { "scsi:t-0x00*", "scsi:t-0x07*", "scsi:t-0x0e*" };
	const char *const vfat[] = { "fs-vfat" };
	CHECK(!modules_wanted(ahci, N(ahci), devs, N(devs)), "modules: no AHCI controller, no ahci");
	CHECK(modules_wanted(vblk, N(vblk), devs, N(devs)), "modules: a virtio disk wants virtio_blk");
	CHECK(!modules_wanted(vscsi, N(vscsi), devs, N(devs)), "modules: no virtio SCSI, no virtio_scsi");
	CHECK(modules_wanted(sd, N(sd), devs, N(devs)), "modules: SCSI disks appear later: sd_mod always");
	CHECK(modules_wanted(vfat, N(vfat), devs, N(devs)), "modules: file systems always");
	CHECK(modules_wanted(NULL, 0, devs, N(devs)), "modules: a module without aliases always");
	CHECK(!modules_wanted(vblk, N(vblk), NULL, 0), "modules: no devices at all");
	const char *const q35[] = { "pci:v00008086d00002922sv00001AF4sd00001100bc01sc06i01" };
	CHECK(modules_wanted(ahci, N(ahci), q35, N(q35)), "modules: an AHCI controller wants ahci");
	const char *const mixed[] = { "acpi*:PNP0C0C:*", "pci:v00001234d*sv*sd*bc*sc*i*" };
	CHECK(modules_wanted(mixed, N(mixed), devs, N(devs)),
	      "modules: a driver also of another bus always");
	return test_done();
}
