// SPDX-License-Identifier: MIT
// `spk trace`: builds a package root from the files a program touches while it runs.
#pragma once

int spk_trace_main(int argc, char **argv);
