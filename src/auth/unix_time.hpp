#pragma once
// JWT dates are wall-clock seconds since the epoch (RFC 7519 §2 NumericDate),
// unlike the core's steady-clock TimePoint. The runtime passes
// floor<seconds>(system_clock::now()); tests pass whatever they like.

#include <chrono>

namespace bosun::auth {

using UnixTime = std::chrono::sys_seconds;

}  // namespace bosun::auth
