// CPU kernel pieces tested on their own, against the obvious loop: the
// transposition the input-gradient kernel multiplies by (16 x 16 blocks
// through registers with AVX-512, element by element at the edges).
#define BOOST_TEST_MODULE kernels
#include <boost/mpl/list.hpp>
#include <boost/test/unit_test.hpp>

#include <cstddef>
#include <vector>

#include "typenet/cpu/transpose.hpp"

using namespace typenet;

using Scalars = boost::mpl::list<float, double>;

BOOST_AUTO_TEST_CASE_TEMPLATE(transpose_matches_the_element_loop_for_every_edge, T, Scalars) {
  const std::size_t sizes[] = {1, 5, 15, 16, 17, 32, 37, 48, 67, 256};
  for (std::size_t rows : sizes)
    for (std::size_t cols : sizes) {
      // Strides wider than the block, as in the kernel (a block of W's rows
      // into a scratch of a panel's width).
      const std::size_t lds = cols + 3, ldd = rows + 5;
      std::vector<T> src(rows * lds), dst(cols * ldd, T(-1));
      for (std::size_t i = 0; i < src.size(); ++i) src[i] = T(i) * T(0.5);
      cpu::transpose(src.data(), lds, rows, cols, dst.data(), ldd);
      std::size_t wrong = 0, touched_outside = 0;
      for (std::size_t c = 0; c < cols; ++c)
        for (std::size_t r = 0; r < ldd; ++r) {
          if (r < rows) wrong += dst[c * ldd + r] != src[r * lds + c];
          else touched_outside += dst[c * ldd + r] != T(-1);
        }
      BOOST_TEST_INFO(rows << " x " << cols);
      BOOST_TEST(wrong == 0u);
      BOOST_TEST_INFO(rows << " x " << cols);
      BOOST_TEST(touched_outside == 0u);
    }
}
