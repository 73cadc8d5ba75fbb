#pragma once
// A small stand-in for C++23 std::expected: g++ 12 ships <expected> only in
// C++23 mode and Debian 12 packages no tl-expected. The API mirrors the
// standard one so that the switch to C++23 is a rename.

#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

namespace bosun {

template <class E>
class Unexpected {
public:
    explicit Unexpected(E e) : error_(std::move(e)) {}
    const E& error() const& { return error_; }
    E&& error() && { return std::move(error_); }

private:
    E error_;
};

template <class E>
Unexpected<E> unexpected(E e) { return Unexpected<E>(std::move(e)); }

template <class T, class E>
class [[nodiscard]] Expected {
public:
    Expected() requires std::is_default_constructible_v<T> : v_(std::in_place_index<0>) {}
    Expected(T value) : v_(std::in_place_index<0>, std::move(value)) {}
    Expected(Unexpected<E> u) : v_(std::in_place_index<1>, std::move(u).error()) {}

    bool has_value() const { return v_.index() == 0; }
    explicit operator bool() const { return has_value(); }

    T& value() & { assert(has_value()); return std::get<0>(v_); }
    const T& value() const& { assert(has_value()); return std::get<0>(v_); }
    T&& value() && { assert(has_value()); return std::get<0>(std::move(v_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const E& error() const { assert(!has_value()); return std::get<1>(v_); }

private:
    std::variant<T, E> v_;
};

template <class E>
class [[nodiscard]] Expected<void, E> {
public:
    Expected() = default;
    Expected(Unexpected<E> u) : error_(std::move(u).error()), ok_(false) {}

    bool has_value() const { return ok_; }
    explicit operator bool() const { return ok_; }
    const E& error() const { assert(!ok_); return error_; }

private:
    E error_{};
    bool ok_ = true;
};

}  // namespace bosun
