// The message of an expected exception, and a check that it says each of
// the things it must: the tests of the file readers and writers.
#pragma once

#include <boost/test/unit_test.hpp>
#include <exception>
#include <initializer_list>
#include <string>
#include <string_view>

// The message of the exception f throws, checked to be of type E.
template <class E, class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("(wrong exception type) ") + e.what();
  }
  return "(no exception)";
}

inline void check_contains(const std::string& message, std::initializer_list<std::string_view> parts) {
  for (const std::string_view part : parts)
    BOOST_CHECK_MESSAGE(message.find(part) != std::string::npos,
                        "the message\n  " << message << "\nlacks\n  " << part);
}
