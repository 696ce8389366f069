// typenet/version.hpp against the version in the top-level meson.build, which
// the build passes in as TYPENET_EXPECTED_VERSION ("major.minor.patch"): the
// macros, typenet.pc and typenetConfigVersion.cmake must name one version.
#define BOOST_TEST_MODULE version
#include <boost/test/unit_test.hpp>
#include <string>

#include "typenet/typenet.hpp"

// typenet::version is spelled from the macros, so one comparison checks both.
BOOST_AUTO_TEST_CASE(the_header_names_meson_s_project_version) {
  BOOST_TEST(std::string(typenet::version) == TYPENET_EXPECTED_VERSION);
}

BOOST_AUTO_TEST_CASE(the_single_number_orders_versions) {
  static_assert(TYPENET_VERSION ==
                TYPENET_VERSION_MAJOR * 10000 + TYPENET_VERSION_MINOR * 100 + TYPENET_VERSION_PATCH);
  // Each part must fit its two decimal digits, or the single number would not order versions.
  static_assert(TYPENET_VERSION_MINOR < 100 && TYPENET_VERSION_PATCH < 100);
  // The preprocessor can compare it (what the macro is for).
#if TYPENET_VERSION < 200
  BOOST_FAIL("TYPENET_VERSION is below 0.2.0");
#endif
}
