// SPDX-License-Identifier: MIT
// The version silo reports (status API, console, logs).
#pragma once
#define SILO_VERSION "0.1.0"
