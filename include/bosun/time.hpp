#pragma once
// Time is a parameter of the core, never a clock read (sans-I/O). The runtime
// passes steady_clock::now(); tests pass whatever they like.

#include <chrono>

namespace bosun {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = std::chrono::milliseconds;
using Seconds = std::chrono::seconds;

}  // namespace bosun
