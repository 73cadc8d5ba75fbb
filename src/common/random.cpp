#include "common/random.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace bosun {

void random_bytes(void* buf, std::size_t n)
{
    auto* p = static_cast<unsigned char*>(buf);
    while (n > 0) {
        const ssize_t got = getrandom(p, n, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            std::fputs("bosun: getrandom failed\n", stderr);
            std::abort();
        }
        p += got;
        n -= static_cast<std::size_t>(got);
    }
}

std::uint64_t random_u64()
{
    std::uint64_t v;
    random_bytes(&v, sizeof v);
    return v;
}

std::string make_sid()
{
    static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
    unsigned char raw[20];  // 160 bits
    random_bytes(raw, sizeof raw);
    std::string out;
    out.reserve(32);
    unsigned buffer = 0;
    int bits = 0;
    for (unsigned char byte : raw) {
        buffer = (buffer << 8) | byte;
        bits += 8;
        while (bits >= 5) {
            out.push_back(alphabet[(buffer >> (bits - 5)) & 31]);
            bits -= 5;
        }
    }
    return out;
}

}  // namespace bosun
