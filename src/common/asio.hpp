#pragma once
// The one place Boost.Asio and Boost.Beast are included (STYLE.md rule 3).
// <utility> first: some Asio versions use std::exchange without including it.

#include <utility>

#if defined(__clang__)
// clang only finds co_await support through these (reference/style-anchors.md §6.4).
#ifndef BOOST_ASIO_HAS_CO_AWAIT
#define BOOST_ASIO_HAS_CO_AWAIT 1
#endif
#ifndef BOOST_ASIO_HAS_STD_COROUTINE
#define BOOST_ASIO_HAS_STD_COROUTINE 1
#endif
#endif

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#if !defined(BOOST_ASIO_HAS_CO_AWAIT)
#error "Bosun needs Boost.Asio with C++20 coroutine support"
#endif

namespace bosun {
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using boost::system::error_code;
}  // namespace bosun
