#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the appliance disk image build/silo-<series>.img (see image/README.md for the
# layout). Needs build/silo-init, build/silo and build/silo-bridge; no root, no loop devices.
# Usage: image/build.sh SERIES [DEFAULT_SERIES]   (silo.img is a copy of the default's image)
# Also writes build/silo-SERIES.update, the OS slot as a signed update (docs/OS-UPDATE.md),
# signed with build/keys/os-update.key (made on the first run and kept; its public half is
# baked into the image). Environment:
#   SILO_OS_LABEL=L     the OS version is <silo version>-L (default: the date and time)
#   SILO_UPDATE_ONLY=F  write only the update file F, no disk image (the tests' updates)
#   SILO_OS_BROKEN=1    leave silo out of the OS, so silo-init cannot start it (tests)
set -euo pipefail
series=${1:?usage: build.sh SERIES [DEFAULT_SERIES]}
default=${2:-6.12}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
B=build
st=$B/image/$series
img=$B/silo-$series.img
grubdir=/usr/lib/grub

# Partition layout in 512-byte sectors. The OS slots hold only a kernel and an initramfs.
ESP_UUID=5111-E5B0 A_UUID=5111-0A0A B_UUID=5111-0B0B
ESP_SIZE=16 SLOT_SIZE=48 DATA_SIZE=128   # MiB
mib=2048

image/kernel.sh "$series" "$B/kernel"
# The OS update key pair: made once, kept, so every image and update of this tree match.
mkdir -p $B/keys
[[ -f $B/keys/os-update.key ]] || $B/silo-ostool keygen $B/keys/os-update.key $B/keys/os-update.pub
update_only=${SILO_UPDATE_ONLY:-}
[[ -n $update_only ]] && st=$st-update
kdir=$B/kernel/$series
release=$(cat "$kdir/release")

# --- the root file system (the initramfs): silo-init, silo, silo-bridge, config, modules ---
rm -rf "$st"
root=$st/root
mkdir -p "$root"/{sbin,usr/bin,etc/silo,dev,proc,sys,run,tmp,var/lib/silo,.root,lib/modules}
strip -o "$root/sbin/init" $B/silo-init
[[ ${SILO_OS_BROKEN:-0} == 1 ]] || strip -o "$root/usr/bin/silo" $B/silo
strip -o "$root/usr/bin/silo-bridge" $B/silo-bridge
ln -s sbin/init "$root/init"
cp config/appliance.conf "$root/etc/silo/silo.conf"
cp config/init.conf "$root/etc/silo/init.conf"
ln -s /run/resolv.conf "$root/etc/resolv.conf"
version=$(sed -n 's/^#define SILO_VERSION "\(.*\)"/\1/p' server/version.h)
os_version=$version-${SILO_OS_LABEL:-$(date -u +%Y%m%d.%H%M%S)}
echo "$os_version" >"$root/etc/silo/os-version"
cp $B/keys/os-update.pub "$root/etc/silo/update.pub"
printf 'NAME=silo\nID=silo\nVERSION_ID=%s\nPRETTY_NAME="silo %s (kernel %s)"\n' \
  "$version" "$version" "$release" >"$root/etc/os-release"
python3 image/modules.py "$kdir/root/lib/modules/$release" config/modules \
  "$root/lib/modules/$release" "$root/etc/silo/modules"
depmod -b "$root" "$release"
python3 image/mkcpio.py "$root" "$st/initrd.img"

# --- the boot loader: GRUB for BIOS (core.img in the BIOS boot partition) and UEFI ---
cat >"$st/early.cfg" <<CFG
search.fs_uuid $ESP_UUID root
set prefix=(\$root)/grub
CFG
# The A/B choice (docs/OS-UPDATE.md): silo_slot is the slot known to work; silo_next, when
# set, is tried while silo_tries counts down (GRUB has no arithmetic: one branch a value),
# and at 0 GRUB goes back to silo_slot and records silo_failed. Slots are found as
# partitions 3 and 4 of the disk the ESP is on: their file systems are the same image.
# BIOS boots with linux16, which loads the kernel at 1 MiB where it can run: "linux" (the
# 32-bit protocol) loads it wherever GRUB's heap leaves room and has GRUB's relocator copy
# it into place byte by byte just before the jump, 5 s of the boot under qemu TCG. UEFI
# has only "linux".
# The kernel's command line: the kernel's own messages only from errors up (quiet: panics
# still show) on the screen and the serial port, /dev/console on the serial port. Three
# boot-time costs under slow CPUs (docs/BENCHMARKS.md): cryptomgr.notests skips the crypto
# self-tests (upstream's default, CRYPTO_MANAGER_DISABLE_TESTS; Debian turns them on);
# jitterentropy's start-up health test is not run (it seeds only the crypto API's DRBG,
# which goes on without it; /dev/random and getrandom(2) do not use it); noreplace-smp
# keeps the lock prefixes on a one-CPU machine, where the kernel would otherwise rewrite
# each of them with its own text_poke (about 0.5 s under qemu TCG; a stray lock prefix on
# one CPU costs next to nothing).
cmdline="console=tty0 console=ttyS0,115200 panic=10 quiet cryptomgr.notests"
cmdline+=" initcall_blacklist=jent_mod_init noreplace-smp"
cat >"$st/grub.cfg" <<CFG
serial --unit=0 --speed=115200
terminal_input console serial
terminal_output console serial
set timeout=0
load_env
set default=a
if [ "\$silo_slot" = b ]; then set default=b; fi
if [ "\$silo_next" = a -o "\$silo_next" = b ]; then
  if [ "\$silo_tries" = 3 ]; then set silo_tries=2; set default="\$silo_next"
  elif [ "\$silo_tries" = 2 ]; then set silo_tries=1; set default="\$silo_next"
  elif [ "\$silo_tries" = 1 ]; then set silo_tries=0; set default="\$silo_next"
  else set silo_failed="\$silo_next"; set silo_next=; set silo_tries=
  fi
  save_env silo_next silo_tries silo_failed
fi
regexp --set=1:silo_disk '^([^,]+),' "\$root"
set silo_cmdline="$cmdline"
function silo_boot {
  set root="\$silo_disk,\$2"
  echo "Loading Linux (slot \$1) ..."
  if [ "\$grub_platform" = pc ]; then
    linux16 /vmlinuz \$silo_cmdline silo.slot=\$1
    echo "Loading initial ramdisk ..."
    initrd16 /initrd.img
  else
    linux /vmlinuz \$silo_cmdline silo.slot=\$1
    echo "Loading initial ramdisk ..."
    initrd /initrd.img
  fi
  echo "Starting Linux ..."
}
menuentry "silo (slot A)" --id a { silo_boot a gpt3; }
menuentry "silo (slot B)" --id b { silo_boot b gpt4; }
CFG
mods="part_gpt fat search search_fs_uuid configfile normal linux echo test loadenv serial terminal regexp"
mkdir -p "$st/bios"
cp $grubdir/i386-pc/boot.img "$st/bios/"
# GRUB runs the embedded config, then loads normal, which reads \$prefix/grub.cfg. The BIOS
# core image holds only what finds the ESP (diskboot reads it in one go: < 127 sectors);
# the rest loads from /grub/i386-pc there.
grub-mkimage -O i386-pc -d $grubdir/i386-pc -o "$st/bios/core.img" -c "$st/early.cfg" \
  -p /grub biosdisk part_gpt fat search_fs_uuid
grub-mkimage -O x86_64-efi -d $grubdir/x86_64-efi -o "$st/BOOTX64.EFI" -c "$st/early.cfg" \
  -p /grub $mods efi_gop
grub-editenv "$st/grubenv" create

# --- the partitions' file systems, made in files ---
mkfs.vfat -n SILO-ESP -i "${ESP_UUID/-/}" -C "$st/esp.img" $((ESP_SIZE * 1024)) >/dev/null
mmd -i "$st/esp.img" ::/EFI ::/EFI/BOOT ::/grub
mcopy -i "$st/esp.img" "$st/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$st/esp.img" "$st/grub.cfg" "$st/grubenv" ::/grub/
mmd -i "$st/esp.img" ::/grub/i386-pc
mcopy -i "$st/esp.img" $grubdir/i386-pc/*.mod $grubdir/i386-pc/*.lst ::/grub/i386-pc/
# 32 KiB clusters: GRUB reads a file cluster by cluster, each a BIOS disk call, which
# qemu TCG makes slow; big clusters cut the kernel's and initramfs's load time.
mkfs.vfat -s 64 -n SILO-A -i "${A_UUID/-/}" -C "$st/slot-a.img" $((SLOT_SIZE * 1024)) >/dev/null
mcopy -i "$st/slot-a.img" "$kdir/vmlinuz" ::/vmlinuz
mcopy -i "$st/slot-a.img" "$st/initrd.img" ::/initrd.img
# The update: the slot's image up to its last used byte (FAT fills from the front).
update=${update_only:-$B/silo-$series.update}
python3 - "$st/slot-a.img" "$st/slot.used" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
end = len(data.rstrip(b"\0"))
open(sys.argv[2], "wb").write(data[:(end + 4095) // 4096 * 4096])
PY
$B/silo-ostool sign $B/keys/os-update.key "$st/slot.used" "$series" "$os_version" "$update"
echo "image: $update: OS update $os_version ($(($(stat -c %s "$update") >> 10)) KiB)"
if [[ -n $update_only ]]; then
  rm -rf "$st"
  exit 0
fi
mkfs.vfat -s 64 -n SILO-B -i "${B_UUID/-/}" -C "$st/slot-b.img" $((SLOT_SIZE * 1024)) >/dev/null
# The data partition ships formatted (the OS has no mkfs) and small; first boot grows it.
mkfs.ext4 -q -F -L silo-data -b 4096 -m 1 "$st/data.img" ${DATA_SIZE}M >/dev/null

# --- the disk: GPT, then each partition's image at its offset ---
bios_start=$mib esp_start=$((2 * mib))
a_start=$((esp_start + ESP_SIZE * mib)) b_start=$((a_start + SLOT_SIZE * mib))
data_start=$((b_start + SLOT_SIZE * mib))
total=$((data_start + DATA_SIZE * mib + mib))
rm -f "$img.tmp"
truncate -s $((total * 512)) "$img.tmp"
sfdisk -q "$img.tmp" <<SF
label: gpt
unit: sectors
first-lba: 2048
start=$bios_start, size=$mib, type=21686148-6449-6E6F-744E-656564454649, name="bios-boot"
start=$esp_start, size=$((ESP_SIZE * mib)), type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="esp"
start=$a_start, size=$((SLOT_SIZE * mib)), type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="silo-os-a"
start=$b_start, size=$((SLOT_SIZE * mib)), type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="silo-os-b"
start=$data_start, size=$((DATA_SIZE * mib)), type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="silo-data"
SF
put() { dd if="$1" of="$img.tmp" bs=512 seek="$2" conv=notrunc,sparse status=none; }
put "$st/esp.img" $esp_start
put "$st/slot-a.img" $a_start
put "$st/slot-b.img" $b_start
put "$st/data.img" $data_start
python3 image/biosboot.py "$img.tmp" "$st/bios/boot.img" "$st/bios/core.img" $bios_start
mv "$img.tmp" "$img"
[[ $series == "$default" ]] && cp --sparse=always "$img" $B/silo.img

os=$(($(stat -c %s "$kdir/vmlinuz") + $(stat -c %s "$st/initrd.img")))
echo "image: $img: $(($(stat -c %s "$img") >> 20)) MiB disk (kernel $release)"
echo "image: OS slot: $((os >> 10)) KiB used of $SLOT_SIZE MiB (kernel $(($(stat -c %s "$kdir/vmlinuz") >> 10)) KiB, initramfs $(($(stat -c %s "$st/initrd.img") >> 10)) KiB)"
