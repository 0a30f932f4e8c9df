// A tiny assertion kit for the C++ unit tests (one executable per test file, run by ctest).
#pragma once

#include <cstdio>
#include <cstdlib>

namespace vs::test {

/** Scale factor for iteration counts: VS_TEST_SCALE (sanitizer builds run fewer iterations). */
inline double Scale() {
  const char* value = std::getenv("VS_TEST_SCALE");
  return value ? std::atof(value) : 1.0;
}

inline int& Failures() {
  static int failures = 0;
  return failures;
}

}  // namespace vs::test

#define VS_CHECK(condition)                                                              \
  do {                                                                                   \
    if (!(condition)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #condition); \
      ++::vs::test::Failures();                                                          \
    }                                                                                    \
  } while (0)

#define VS_CHECK_EQ(actual, expected)                                                           \
  do {                                                                                          \
    const auto vs_actual_ = (actual);                                                           \
    const auto vs_expected_ = (expected);                                                       \
    if (!(vs_actual_ == vs_expected_)) {                                                        \
      std::fprintf(stderr, "%s:%d: check failed: %s == %s (got %lld, expected %lld)\n",         \
                   __FILE__, __LINE__, #actual, #expected, static_cast<long long>(vs_actual_), \
                   static_cast<long long>(vs_expected_));                                       \
      ++::vs::test::Failures();                                                                 \
    }                                                                                           \
  } while (0)

/** Ends main(): prints a summary and returns the exit status. */
#define VS_TEST_RESULT(name)                                                      \
  (std::fprintf(stderr, "%s: %s\n", name, ::vs::test::Failures() ? "FAILED" : "passed"), \
   ::vs::test::Failures() ? 1 : 0)
