// Data-parallel training over MPI, for programs that want it (typenet.hpp
// does not include it, so the library without MPI is unchanged): sessions
// and deadline-guarded collectives, synchronised BatchNorm, the trainer and
// rank-0 checkpoints. Shard the data with data::BatchLoader's shard/shards
// options. Compile with the MPI dependency (meson: -Dmpi=enabled).
#pragma once

#include "typenet/distributed/checkpoint.hpp"
#include "typenet/distributed/data_parallel.hpp"
#include "typenet/distributed/gradient_allreduce.hpp"
#include "typenet/distributed/mpi_batch_reducer.hpp"
#include "typenet/distributed/mpi_communicator.hpp"
