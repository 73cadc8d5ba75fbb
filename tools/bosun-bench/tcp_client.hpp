#pragma once
// The same session over a plain XMPP c2s connection (RFC 6120): STARTTLS
// (optional), SASL PLAIN, bind, session, presence, roster; one reader, one
// bounded write queue.

#include <memory>

#include "runner.hpp"

namespace bosun::bench {

struct TcpTarget {
    tcp::endpoint endpoint;
};

bool resolve_host_port(
    net::io_context& io, const std::string& host_port, TcpTarget& out, std::string& error);

std::shared_ptr<Client> make_tcp_client(
    Context& ctx, const TcpTarget& target, std::size_t index, std::uint32_t user);

}  // namespace bosun::bench
