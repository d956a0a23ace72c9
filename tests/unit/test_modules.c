// SPDX-License-Identifier: MIT
// silo-init's choice of modules: drivers of PCI and virtio devices only when such a device
// is present, SCSI disk drivers only with a SCSI host adapter, everything else always.
#include <stdbool.h>
#include <stddef.h>

#include "modules.h"
#include "test.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

// qemu's i440fx with virtio disk and network: no AHCI controller, no SCSI host.
static const char *const devs[] = {
	"pci:v00008086d00001237sv00001AF4sd00001100bc06sc00i00",
	"pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00",
	"virtio:d00000002v00001AF4",
	"virtio:d00000001v00001AF4",
};

static bool wanted(const char *const *aliases, size_t n, bool scsi_host)
{
	return modules_wanted(aliases, n, devs, N(devs), scsi_host);
}

int main(void)
{
	const char *const ahci[] = { "pci:v*d*sv*sd*bc01sc06i01*", "pci:v00008086d00002922sv*sd*bc*sc*i*" };
	const char *const vblk[] = { "virtio:d00000002v*" };
	const char *const vscsi[] = { "virtio:d00000008v*" };
	const char *const sd[] = { "scsi:t-0x00*", "scsi:t-0x07*", "scsi:t-0x0e*" };
	const char *const vfat[] = { "fs-vfat" };
	const char *const button[] = { "acpi*:PNP0C0C:*", "acpi*:LNXPWRBN:*" };
	const char *const mixed[] = { "acpi*:PNP0C0C:*", "pci:v00001234d*sv*sd*bc*sc*i*" };
	CHECK(!wanted(ahci, N(ahci), false), "modules: no AHCI controller, no ahci");
	CHECK(wanted(vblk, N(vblk), false), "modules: a virtio disk wants virtio_blk");
	CHECK(!wanted(vscsi, N(vscsi), false), "modules: no virtio SCSI, no virtio_scsi");
	CHECK(!wanted(sd, N(sd), false), "modules: no SCSI host adapter, no sd_mod");
	CHECK(wanted(sd, N(sd), true), "modules: a SCSI host adapter wants sd_mod");
	CHECK(wanted(vfat, N(vfat), false), "modules: file systems always");
	CHECK(wanted(button, N(button), false), "modules: drivers of other buses always");
	CHECK(wanted(mixed, N(mixed), false), "modules: a driver also of another bus always");
	CHECK(wanted(NULL, 0, false), "modules: a module without aliases always");
	CHECK(!modules_wanted(vblk, N(vblk), NULL, 0, false), "modules: no devices at all");
	const char *const q35[] = { "pci:v00008086d00002922sv00001AF4sd00001100bc01sc06i01" };
	CHECK(modules_wanted(ahci, N(ahci), q35, N(q35), false), "modules: an AHCI controller wants ahci");
	return test_done();
}
