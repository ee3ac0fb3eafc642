import LDMTensor
import Testing
@testable import LDMPipelines

/// A batch-aware stand-in: row b of the batch gets ε = (b + 1)·x + t/1000, so the two halves of a
/// guidance batch differ and their order is visible.
struct RowScaledDenoiser: Denoiser {
    /// - x: [B, C, H, W] → ε: [B, C, H, W]
    func noise(_ x: Tensor, timestep: Float, workspace: Workspace) throws -> Tensor {
        let out = try Tensor(shape: x.shape)
        let per = x.count / x.shape[0]
        for i in 0..<x.count { out.data[i] = Float(i / per + 1) * x.data[i] + timestep / 1000 }
        return out
    }
}

@Suite struct ClassifierFreeGuidanceTests {
    /// ε = ε_u + s(ε_c − ε_u), with ε_u from the first half of the batch: per element against a
    /// direct evaluation of both rows (exact: the same float32 operations), for N = 1 and 2.
    @Test(arguments: [1, 2])
    func mixesTheTwoHalvesOfOneBatch(n: Int) throws {
        let x = try Tensor(shape: [n, 3, 5, 7], values: (0..<(n * 105)).map { Float($0 % 17) / 8 - 1 })
        let guided = try ClassifierFreeGuidance(pair: RowScaledDenoiser(), scale: 7.5).noise(x, timestep: 500, workspace: Workspace())
        #expect(guided.shape == x.shape)
        let per = x.count / n
        for i in 0..<x.count {
            let row = i / per
            let u = Float(row + 1) * x.data[i] + 0.5, c = Float(n + row + 1) * x.data[i] + 0.5
            #expect(guided.data[i] == u + 7.5 * (c - u), "element \(i)")
        }
    }

    /// Scale 1 gives the conditional half exactly when the arithmetic allows (here: integers).
    @Test func scaleOneIsTheConditionalHalf() throws {
        let x = try Tensor(shape: [1, 1, 2, 2], values: [1, 2, 3, 4])
        let guided = try ClassifierFreeGuidance(pair: RowScaledDenoiser(), scale: 1).noise(x, timestep: 0, workspace: Workspace())
        #expect(guided.values == [2, 4, 6, 8])
    }

    /// A pair that ignores the doubled batch is refused, not read out of bounds.
    @Test func aPairAnsweringTheWrongBatchIsRefused() throws {
        let x = try Tensor(shape: [1, 4, 2, 2])
        #expect(throws: TensorError.self) {
            _ = try ClassifierFreeGuidance(pair: WrongShapeDenoiser(), scale: 7.5).noise(x, timestep: 1, workspace: Workspace())
        }
    }
}
