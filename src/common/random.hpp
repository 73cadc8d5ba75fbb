#pragma once
// Cryptographically strong randomness from the kernel (getrandom(2)).

#include <cstdint>
#include <string>

namespace bosun {

/// Fills buf with random bytes; aborts if the kernel cannot supply them.
void random_bytes(void* buf, std::size_t n);

std::uint64_t random_u64();

/// A session id: 160 random bits as 32 base32 characters (XEP-0124 §7.2,
/// §19.3: unpredictable and never repeating; checklist #31, #104).
std::string make_sid();

}  // namespace bosun
