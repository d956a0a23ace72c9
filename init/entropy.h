// SPDX-License-Identifier: MIT
// Seeding the kernel's random pool from a seed file kept on the data partition.
#pragma once

// Mixes the saved seed in (credited, as it came from this kernel's pool on an earlier boot)
// and replaces it at once so no two boots reuse a seed.
void entropy_seed(const char *seed_file);

// Saves a fresh seed (at shutdown).
void entropy_save(const char *seed_file);
