// SPDX-License-Identifier: MIT
// The ACPI power button, read from its input device (qemu's system_powerdown presses it).
#pragma once

// Opens the input devices that report KEY_POWER, non-blocking; how many (at most max).
int power_open(int *fds, int max);

// Reads what fd has; 1 if the power key was pressed, 0 if not, -1 if fd is gone.
int power_pressed(int fd);
