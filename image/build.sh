#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the appliance disk image build/silo-<series>.img (see image/README.md for the
# layout). Needs build/silo-init, build/silo and build/silo-bridge; no root, no loop devices.
# Usage: image/build.sh SERIES [DEFAULT_SERIES]   (silo.img is a copy of the default's image)
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
kdir=$B/kernel/$series
release=$(cat "$kdir/release")

# --- the root file system (the initramfs): silo-init, silo, silo-bridge, config, modules ---
rm -rf "$st"
root=$st/root
mkdir -p "$root"/{sbin,usr/bin,etc/silo,dev,proc,sys,run,tmp,var/lib/silo,.root,lib/modules}
strip -o "$root/sbin/init" $B/silo-init
strip -o "$root/usr/bin/silo" $B/silo
strip -o "$root/usr/bin/silo-bridge" $B/silo-bridge
ln -s sbin/init "$root/init"
cp config/appliance.conf "$root/etc/silo/silo.conf"
cp config/init.conf "$root/etc/silo/init.conf"
ln -s /run/resolv.conf "$root/etc/resolv.conf"
version=$(sed -n 's/^#define SILO_VERSION "\(.*\)"/\1/p' server/version.h)
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
cat >"$st/grub.cfg" <<CFG
serial --unit=0 --speed=115200
terminal_input console serial
terminal_output console serial
set timeout=0
set default=a
load_env
if [ "\$silo_slot" = b ]; then set default=b; fi
menuentry "silo (slot A)" --id a {
  search --no-floppy --fs-uuid --set=root $A_UUID
  linux /vmlinuz console=tty0 console=ttyS0,115200 panic=10 silo.slot=a
  initrd /initrd.img
}
menuentry "silo (slot B)" --id b {
  search --no-floppy --fs-uuid --set=root $B_UUID
  linux /vmlinuz console=tty0 console=ttyS0,115200 panic=10 silo.slot=b
  initrd /initrd.img
}
CFG
mods="part_gpt fat search search_fs_uuid configfile normal linux echo test loadenv serial terminal"
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
mkfs.vfat -n SILO-A -i "${A_UUID/-/}" -C "$st/slot-a.img" $((SLOT_SIZE * 1024)) >/dev/null
mcopy -i "$st/slot-a.img" "$kdir/vmlinuz" ::/vmlinuz
mcopy -i "$st/slot-a.img" "$st/initrd.img" ::/initrd.img
mkfs.vfat -n SILO-B -i "${B_UUID/-/}" -C "$st/slot-b.img" $((SLOT_SIZE * 1024)) >/dev/null
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
