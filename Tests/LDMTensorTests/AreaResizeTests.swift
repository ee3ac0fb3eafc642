import LDMTensor
import LDMTestSupport
import Testing

@Suite struct AreaResizeTests {
    /// Odd, prime and size-1 shapes, shrink factors that divide and that do not: against the twin
    /// (a Float sum of up to ⌈H/h⌉·⌈W/w⌉ terms, relative error ≤ terms·2⁻²⁴ on these values of one
    /// sign-mixed magnitude ≤ 1: bound 2e-6).
    @Test(arguments: [(1, 1, 1, 1, 1), (2, 7, 13, 3, 5), (3, 31, 17, 31, 1), (1, 64, 96, 16, 24), (2, 41, 58, 7, 10), (1, 5, 5, 4, 4)])
    func matchesTheTwin(_ planes: Int, _ h: Int, _ w: Int, _ ho: Int, _ wo: Int) throws {
        let values = (0..<(planes * h * w)).map { Float(($0 * 7919) % 1000) / 500 - 1 }
        let x = try Tensor(shape: [1, planes, h, w], values: values)
        let y = try Tensor(shape: [1, planes, ho, wo])
        try AreaResize.forward(x, into: y)
        let cmp = Comparison(y.values, Naive.adaptiveAvgPool(values, planes: planes, h: h, w: w, ho: ho, wo: wo))
        #expect(cmp.maxAbs <= 2e-6, "\(cmp)")
    }

    @Test func oneAndTwoThreadsAreBitwiseIdentical() throws {
        let x = try Tensor(shape: [1, 4, 37, 53], values: (0..<(4 * 37 * 53)).map { Float($0 % 97) / 48 - 1 })
        let (a, b) = (try Tensor(shape: [1, 4, 11, 16]), try Tensor(shape: [1, 4, 11, 16]))
        let one = try withObservedThreads(1) { try AreaResize.forward(x, into: a) }
        let two = try withObservedThreads(2) { try AreaResize.forward(x, into: b) }
        #expect(one.observed == 1 && two.observed == 2)
        #expect(a.values.map(\.bitPattern) == b.values.map(\.bitPattern))
    }

    @Test func refusesUpscaling() throws {
        let x = try Tensor(shape: [1, 1, 4, 4])
        #expect(throws: TensorError.self) { try AreaResize.forward(x, into: try Tensor(shape: [1, 1, 5, 2])) }
    }
}
