import Foundation
import LDMTensor
import LDMTestSupport
import Testing

/// GroupNorm with statistics gathered over regions (tiled execution).
@Suite struct GroupNormStatisticsTests {
    /// Recording over regions that partition the plane, then replaying, gives the same result as
    /// normalising the whole tensor: the tiles see the image's statistics.
    @Test func regionsThatPartitionThePlaneGiveTheWholeStatistics() throws {
        let (c, h, w, groups) = (8, 13, 10, 4)
        let x = try Tensor(shape: [1, c, h, w], values: testValues(c * h * w, seed: 3, scale: 2).map { $0 + 0.7 })
        let gamma = try Tensor(shape: [c], values: testValues(c, seed: 4)), beta = try Tensor(shape: [c], values: testValues(c, seed: 5))
        let expected = try Tensor(shape: x.shape)
        try GroupNorm.forward(x, groups: groups, gamma: gamma, beta: beta, eps: 1e-5, into: expected)
        let statistics = GroupNormStatistics()
        // Three regions of x itself (reference size = x's size): rows 0..<5, and rows 5..<13 split at column 4.
        for (y0, y1, x0, x1) in [(0, 5, 0, 10), (5, 13, 0, 4), (5, 13, 4, 10)] {
            statistics.beginTile(.init(y0: y0, y1: y1, x0: x0, x1: x1, referenceHeight: h, referenceWidth: w))
            statistics.record(x, groups: groups)
            statistics.advance()
        }
        statistics.startReplay()
        statistics.beginTile(nil)
        let shared = try #require(statistics.replayed(groups: groups))
        let y = try Tensor(shape: x.shape)
        try GroupNorm.forward(x, groups: groups, gamma: gamma, beta: beta, eps: 1e-5, statistics: shared, into: y)
        for i in 0..<x.count { #expect(abs(y.data[i] - expected.data[i]) <= 2e-5) }
        // A region given in a coarser reference scales to this tensor's resolution.
        let coarse = GroupNormStatistics()
        coarse.beginTile(.init(y0: 0, y1: 1, x0: 0, x1: 1, referenceHeight: 1, referenceWidth: 1))
        coarse.record(x, groups: groups)
        coarse.startReplay()
        coarse.beginTile(nil)
        let again = try #require(coarse.replayed(groups: groups))
        for g in 0..<groups {
            // Sums in Float chunks, in a different order: equal to Float precision.
            #expect(abs(again[g].mean - shared[g].mean) < 1e-6 && abs(again[g].variance - shared[g].variance) < 1e-6 * shared[g].variance)
        }
        #expect(throws: TensorError.self) {
            try GroupNorm.forward(x, groups: groups, gamma: gamma, beta: beta, eps: 1e-5, statistics: Array(shared.prefix(2)), into: y)
        }
    }
}
