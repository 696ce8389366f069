// What the MPI test suites share: MPI started and finished around the
// Boost.Test run (BOOST_TEST_GLOBAL_FIXTURE(MpiFixture)), and the tests'
// communicator, whose 60 s deadline makes the other ranks stop rather than
// hang the suite when one fails a BOOST_REQUIRE and skips a collective.
#pragma once

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstddef>

#include "typenet/distributed/mpi.hpp"

namespace typenet::testing {

struct MpiFixture {
  MpiFixture()
      : session(boost::unit_test::framework::master_test_suite().argc,
                boost::unit_test::framework::master_test_suite().argv) {}
  distributed::MpiSession session;
};

inline distributed::MpiCommunicator& world() {
  static distributed::MpiCommunicator comm(MPI_COMM_WORLD, std::chrono::seconds(60));
  return comm;
}
inline std::size_t ranks() { return static_cast<std::size_t>(world().size()); }
inline std::size_t rank() { return static_cast<std::size_t>(world().rank()); }

}  // namespace typenet::testing
