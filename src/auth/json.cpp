#include "auth/json.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/error.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

namespace bosun::auth::json {
namespace {

using boost::json::string_view;
using boost::system::error_code;

// A basic_parser handler that builds nothing and only tracks the member
// names of each open object, failing on the first repeated one.
struct DuplicateKeyCheck {
    static constexpr std::size_t max_object_size = std::size_t(-1);
    static constexpr std::size_t max_array_size = std::size_t(-1);
    static constexpr std::size_t max_key_size = std::size_t(-1);
    static constexpr std::size_t max_string_size = std::size_t(-1);

    std::vector<std::set<std::string, std::less<>>> open;
    std::string key;
    bool duplicate = false;

    bool on_document_begin(error_code&) { return true; }
    bool on_document_end(error_code&) { return true; }
    bool on_array_begin(error_code&) { return true; }
    bool on_array_end(std::size_t, error_code&) { return true; }
    bool on_object_begin(error_code&)
    {
        open.emplace_back();
        return true;
    }
    bool on_object_end(std::size_t, error_code&)
    {
        open.pop_back();
        return true;
    }
    bool on_string_part(string_view, std::size_t, error_code&) { return true; }
    bool on_string(string_view, std::size_t, error_code&) { return true; }
    bool on_key_part(string_view s, std::size_t, error_code&)
    {
        key.append(s.data(), s.size());
        return true;
    }
    bool on_key(string_view s, std::size_t, error_code& ec)
    {
        key.append(s.data(), s.size());
        duplicate = !open.back().insert(std::move(key)).second;
        key.clear();
        if (duplicate) {
            ec = boost::json::error::syntax;
        }
        return !duplicate;
    }
    bool on_number_part(string_view, error_code&) { return true; }
    bool on_int64(std::int64_t, string_view, error_code&) { return true; }
    bool on_uint64(std::uint64_t, string_view, error_code&) { return true; }
    bool on_double(double, string_view, error_code&) { return true; }
    bool on_bool(bool, error_code&) { return true; }
    bool on_null(error_code&) { return true; }
    bool on_comment_part(string_view, error_code&) { return true; }
    bool on_comment(string_view, error_code&) { return true; }
};

boost::json::parse_options strict_options()
{
    boost::json::parse_options opt;
    opt.max_depth = max_depth;
    opt.allow_comments = false;
    opt.allow_trailing_commas = false;
    opt.allow_invalid_utf8 = false;
    return opt;
}

bool has_duplicate_keys(std::string_view text)
{
    boost::json::basic_parser<DuplicateKeyCheck> parser(strict_options());
    error_code ec;
    parser.write_some(false, text.data(), text.size(), ec);
    return parser.handler().duplicate;
}

}  // namespace

std::optional<boost::json::object> parse_object(std::string_view text)
{
    error_code ec;
    boost::json::value v = boost::json::parse(text, ec, {}, strict_options());
    if (ec || !v.is_object() || has_duplicate_keys(text)) {
        return std::nullopt;
    }
    return std::move(v.as_object());
}

}  // namespace bosun::auth::json
